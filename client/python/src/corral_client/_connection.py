"""Why a call could not reach the daemon, in words a user can act on. When a call fails with
UNAVAILABLE, the client probes the target itself (the socket file, a TCP connect, a TLS
handshake with the same CA, name and certificate, an HTTP/2 preface) and names the problem
instead of grpcio's "failed to connect to all addresses". The problems and messages are those
of the TS and Go clients (test/fixtures/connection-errors.json is the shared table)."""
from __future__ import annotations

import re
import socket
import ssl
from typing import Dict, Optional, Tuple

from ._credentials import TlsOptions
from ._errors import Diagnosis as ConnectionDiagnosis

# Each probe step gives up after this many seconds (a diagnosis takes at most a few steps).
PROBE_TIMEOUT = 3.0


_MESSAGES: Dict[str, str] = {
    "SOCKET_MISSING": "no daemon at {path}: the socket does not exist (start one with `corral server`, or check the address and CORRAL_HOME)",
    "SOCKET_REFUSED": "no daemon at {path}: nothing listens on the socket (the daemon that made it is gone; start one with `corral server`)",
    "SOCKET_PERMISSION_DENIED": (
        "permission denied on the socket {path}: the daemon's socket is for the user that runs it (mode 0600); connect as that user, or over TCP"
    ),
    "CONNECTION_REFUSED": "no daemon at {address}: connection refused (is `corral server` running with this address in server.listen?)",
    "TLS_EXPECTED": (
        "the daemon at {address} speaks TLS and this client connected without it: connect with TLS (and the CA that signed the daemon's certificate)"
    ),
    "TLS_NOT_SPOKEN": "the daemon at {address} does not speak TLS (a plain listener): connect without TLS",
    "TLS_SERVER_NAME": "the daemon's certificate at {address} is not valid for the name {name}: connect with a TLS server name the certificate holds",
    "TLS_UNKNOWN_CA": "the daemon's certificate at {address} is not signed by a CA this client trusts ({trusted}): connect with the CA that signed it",
    "TLS_CERT_EXPIRED": "the daemon's certificate at {address} has expired: the daemon needs a renewed certificate (server.tls.cert)",
    "TLS_CLIENT_CERT_REFUSED": (
        "the daemon at {address} refused this client's certificate {cert} in the TLS handshake "
        "(expired, or not signed by the daemon's server.tls.client_ca)"
    ),
}

# OpenSSL verify codes (X509_V_ERR_*).
_EXPIRED = {10}
_NAME_MISMATCH = {62, 64}  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
_UNKNOWN_CA = {2, 7, 18, 19, 20, 21}

# The HTTP/2 client preface plus an empty SETTINGS frame: a gRPC server answers with its SETTINGS.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _diagnosis(problem: str, **facts: str) -> ConnectionDiagnosis:
    return ConnectionDiagnosis(problem, _MESSAGES[problem].format(**facts))


def _split_host_port(address: str) -> Optional[Tuple[str, int]]:
    match = re.fullmatch(r"(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})", address)
    if not match:
        return None
    return (match.group(1) or match.group(2)), int(match.group(3))


def _answers_http2(sock: socket.socket) -> Tuple[bool, bool]:
    """(h2, cut): the first frame back is SETTINGS; or the peer closed or failed the connection first."""
    try:
        sock.sendall(_H2_PREFACE)
        received = b""
        while len(received) < 9:
            chunk = sock.recv(64)
            if not chunk:
                return False, True
            received += chunk
        return received[3] == 4, False
    except socket.timeout:
        return False, False
    except (OSError, ssl.SSLError):
        return False, True


def diagnose_connection(target: str, tls: Optional[TlsOptions] = None) -> Optional[ConnectionDiagnosis]:
    """Probes `target` (a resolved address: "unix:///abs/path" or "host:port") the way the channel
    connects to it and names the problem; None when the probe finds nothing wrong (the
    UNAVAILABLE then came from the daemon itself, e.g. while it shuts down) or cannot tell."""
    if target.startswith("unix:"):
        path = "/" + re.sub(r"^unix:/*", "", target)
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(PROBE_TIMEOUT)
        try:
            sock.connect(path)
            return None
        except FileNotFoundError:
            return _diagnosis("SOCKET_MISSING", path=path)
        except ConnectionRefusedError:
            return _diagnosis("SOCKET_REFUSED", path=path)
        except PermissionError:
            return _diagnosis("SOCKET_PERMISSION_DENIED", path=path)
        except OSError:
            return None
        finally:
            sock.close()
    address = re.sub(r"^dns:/*", "", target)
    host_port = _split_host_port(address)
    if host_port is None:
        return None
    try:
        socket.create_connection(host_port, timeout=PROBE_TIMEOUT).close()
    except ConnectionRefusedError:
        return _diagnosis("CONNECTION_REFUSED", address=address)
    except OSError:
        return None
    host = host_port[0]
    if tls is None:
        # A plain client: does the port speak TLS?
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection(host_port, timeout=PROBE_TIMEOUT) as raw, context.wrap_socket(raw):
                return _diagnosis("TLS_EXPECTED", address=address)
        except (OSError, ssl.SSLError):
            return None
    # The handshake the channel makes: same CA, name and client certificate.
    name = tls.server_name or host
    try:
        context = ssl.create_default_context(cafile=tls.ca)
        if tls.cert and tls.key:
            context.load_cert_chain(tls.cert, tls.key)
    except (OSError, ssl.SSLError):
        return None
    context.set_alpn_protocols(["h2"])
    try:
        with socket.create_connection(host_port, timeout=PROBE_TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=name) as secured:
                # TLS 1.3: the daemon checks the client certificate after the client's side of the
                # handshake is done, and drops a refused one before any HTTP/2 frame.
                h2, cut = _answers_http2(secured)
                if not h2 and cut and tls.cert:
                    return _diagnosis("TLS_CLIENT_CERT_REFUSED", address=address, cert=tls.cert)
                return None
    except ssl.SSLCertVerificationError as error:
        code = error.verify_code
        if code in _EXPIRED:
            return _diagnosis("TLS_CERT_EXPIRED", address=address)
        if code in _NAME_MISMATCH:
            return _diagnosis("TLS_SERVER_NAME", address=address, name=name)
        if code in _UNKNOWN_CA:
            trusted = f"the CA file {tls.ca}" if tls.ca else "the system's roots"
            return _diagnosis("TLS_UNKNOWN_CA", address=address, trusted=trusted)
        return None
    except ssl.SSLError as error:
        if tls.cert and "ALERT" in str(error).upper():
            return _diagnosis("TLS_CLIENT_CERT_REFUSED", address=address, cert=tls.cert)
    except OSError:
        pass
    # Not a TLS answer at all: is it a plain gRPC listener?
    try:
        with socket.create_connection(host_port, timeout=PROBE_TIMEOUT) as plain:
            if _answers_http2(plain)[0]:
                return _diagnosis("TLS_NOT_SPOKEN", address=address)
    except OSError:
        pass
    return None
