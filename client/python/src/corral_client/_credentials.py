"""TLS and bearer-token options of connect(): the same as the TS client's ConnectOptions
(client/channel-credentials.ts). The token goes in `authorization: Bearer <token>` metadata on
every call through an interceptor, since gRPC refuses call credentials on plain channels."""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple, Union

import grpc


@dataclass(frozen=True)
class TlsOptions:
    """PEM file paths. ca: the CA that signed the daemon's certificate (default: system roots);
    cert and key: a client certificate for mTLS; server_name: the name to check the daemon's
    certificate against when the address does not carry it."""

    ca: Optional[str] = None
    cert: Optional[str] = None
    key: Optional[str] = None
    server_name: Optional[str] = None


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as error:
        raise ValueError(f"cannot read the {what} {path}: {error.strerror}") from None


def read_token_file(path: str) -> str:
    """The token in a file: its first line, trimmed."""
    lines = _read(path, "token file").decode("utf-8").splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ValueError(f"the token file {path} is empty")
    return token


def tls_credentials(tls: TlsOptions, token: Optional[str] = None) -> Tuple[grpc.ChannelCredentials, List[Tuple[str, Union[str, int]]]]:
    """Channel credentials (with the bearer token as call credentials, when given) and the
    channel options a server_name needs."""
    if (tls.cert is None) != (tls.key is None):
        raise ValueError("TLS client certificate and key go together: give both or neither")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca, "TLS CA file") if tls.ca else None,
        private_key=_read(tls.key, "TLS key file") if tls.key else None,
        certificate_chain=_read(tls.cert, "TLS certificate file") if tls.cert else None,
    )
    if token is not None:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    options: List[Tuple[str, Union[str, int]]] = []
    if tls.server_name:
        options = [("grpc.ssl_target_name_override", tls.server_name), ("grpc.default_authority", tls.server_name)]
    return credentials, options


def tls_channel(target: str, tls: TlsOptions, options: List[Tuple[str, Union[str, int]]]) -> grpc.Channel:
    credentials, extra = tls_credentials(tls)
    return grpc.secure_channel(target, credentials, options=options + extra)


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class BearerToken(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]  # one interceptor for every request/response type
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds `authorization: Bearer <token>` to every call."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def __repr__(self) -> str:  # never show the token
        return "BearerToken(***)"

    def _with_token(self, details: grpc.ClientCallDetails) -> _CallDetails:
        metadata = [item for item in (details.metadata or []) if item[0] != "authorization"]
        metadata.append(self._header)
        return _CallDetails(
            details.method, details.timeout, metadata, details.credentials,
            getattr(details, "wait_for_ready", None), getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)
