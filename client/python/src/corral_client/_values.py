"""JSON <-> google.protobuf.Value, for task args, settings, status, signal payloads."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from google.protobuf import json_format, struct_pb2

Json = Union[None, bool, int, float, str, List["Json"], Dict[str, "Json"]]


def to_value(value: Json) -> struct_pb2.Value:
    return json_format.ParseDict(value, struct_pb2.Value())


def _ints(value: Any) -> Any:
    # Protobuf numbers are doubles; JSON readers expect 5 rather than 5.0 for whole numbers.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    return value


def from_value(value: Optional[struct_pb2.Value]) -> Json:
    """The JSON value, or None when unset."""
    if value is None or value.WhichOneof("kind") is None:
        return None
    json: Json = _ints(json_format.MessageToDict(value))
    return json
