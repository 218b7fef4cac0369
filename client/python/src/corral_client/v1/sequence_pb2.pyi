from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class SequenceGapReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEQUENCE_GAP_REASON_UNSPECIFIED: _ClassVar[SequenceGapReason]
    SEQUENCE_GAP_REASON_NOT_HELD: _ClassVar[SequenceGapReason]
    SEQUENCE_GAP_REASON_FELL_BEHIND: _ClassVar[SequenceGapReason]
    SEQUENCE_GAP_REASON_AHEAD: _ClassVar[SequenceGapReason]
SEQUENCE_GAP_REASON_UNSPECIFIED: SequenceGapReason
SEQUENCE_GAP_REASON_NOT_HELD: SequenceGapReason
SEQUENCE_GAP_REASON_FELL_BEHIND: SequenceGapReason
SEQUENCE_GAP_REASON_AHEAD: SequenceGapReason
