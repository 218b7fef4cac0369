package corral

// Why a call could not reach the daemon, in words a user can act on. When a call fails with
// Unavailable, the client probes the target itself (the socket file, a TCP connect, a TLS
// handshake with the same CA, name and certificate, an HTTP/2 preface) and names the problem
// (Error.ConnectionProblem) instead of grpc-go's "connection error: desc = ...". The problems and
// messages are those of the TS and Python clients (test/fixtures/connection-errors.json).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProbeTimeout bounds each probe step (a diagnosis takes at most a few steps).
const ProbeTimeout = 3 * time.Second

// Diagnosis is what the probe found: a stable word (SOCKET_MISSING, TLS_SERVER_NAME, ...) and its message.
type Diagnosis struct {
	Problem string
	Message string
}

type facts struct{ path, address, name, trusted, cert string }

var connectionMessages = map[string]func(f facts) string{
	"SOCKET_MISSING": func(f facts) string {
		return "no daemon at " + f.path + ": the socket does not exist (start one with `corral server`, or check the address and CORRAL_HOME)"
	},
	"SOCKET_REFUSED": func(f facts) string {
		return "no daemon at " + f.path + ": nothing listens on the socket (the daemon that made it is gone; start one with `corral server`)"
	},
	"SOCKET_PERMISSION_DENIED": func(f facts) string {
		return "permission denied on the socket " + f.path + ": the daemon's socket is for the user that runs it (mode 0600); connect as that user, or over TCP"
	},
	"CONNECTION_REFUSED": func(f facts) string {
		return "no daemon at " + f.address + ": connection refused (is `corral server` running with this address in server.listen?)"
	},
	"TLS_EXPECTED": func(f facts) string {
		return "the daemon at " + f.address + " speaks TLS and this client connected without it: connect with TLS (and the CA that signed the daemon's certificate)"
	},
	"TLS_NOT_SPOKEN": func(f facts) string {
		return "the daemon at " + f.address + " does not speak TLS (a plain listener): connect without TLS"
	},
	"TLS_SERVER_NAME": func(f facts) string {
		return "the daemon's certificate at " + f.address + " is not valid for the name " + f.name + ": connect with a TLS server name the certificate holds"
	},
	"TLS_UNKNOWN_CA": func(f facts) string {
		return "the daemon's certificate at " + f.address + " is not signed by a CA this client trusts (" + f.trusted + "): connect with the CA that signed it"
	},
	"TLS_CERT_EXPIRED": func(f facts) string {
		return "the daemon's certificate at " + f.address + " has expired: the daemon needs a renewed certificate (server.tls.cert)"
	},
	"TLS_CLIENT_CERT_REFUSED": func(f facts) string {
		return "the daemon at " + f.address + " refused this client's certificate " + f.cert +
			" in the TLS handshake (expired, or not signed by the daemon's server.tls.client_ca)"
	},
}

func diagnosis(problem string, f facts) *Diagnosis {
	return &Diagnosis{Problem: problem, Message: connectionMessages[problem](f)}
}

// The HTTP/2 client preface plus an empty SETTINGS frame: a gRPC server answers with its SETTINGS.
var h2Preface = append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)

// answersHTTP2 reports whether the first frame back is SETTINGS (h2), or whether the peer closed
// or failed the connection before answering (cut).
func answersHTTP2(conn net.Conn) (h2, cut bool) {
	_ = conn.SetDeadline(time.Now().Add(ProbeTimeout))
	if _, err := conn.Write(h2Preface); err != nil {
		return false, true
	}
	header := make([]byte, 9)
	if _, err := io.ReadFull(conn, header); err != nil {
		var timeout net.Error
		if errors.As(err, &timeout) && timeout.Timeout() {
			return false, false
		}
		return false, true
	}
	return header[3] == 4, false
}

var hostPortPattern = regexp.MustCompile(`^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$`)

// DiagnoseConnection probes target (a resolved address: "unix:///abs/path" or "host:port") the
// way the channel connects to it and names the problem; nil when the probe finds nothing wrong
// (the Unavailable then came from the daemon itself, e.g. while it shuts down) or cannot tell.
func DiagnoseConnection(target string, tlsOptions *TLSOptions) *Diagnosis {
	if strings.HasPrefix(target, "unix:") {
		path := "/" + strings.TrimLeft(strings.TrimPrefix(target, "unix:"), "/")
		conn, err := net.DialTimeout("unix", path, ProbeTimeout)
		switch {
		case err == nil:
			conn.Close()
			return nil
		case errors.Is(err, syscall.ENOENT):
			return diagnosis("SOCKET_MISSING", facts{path: path})
		case errors.Is(err, syscall.ECONNREFUSED):
			return diagnosis("SOCKET_REFUSED", facts{path: path})
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return diagnosis("SOCKET_PERMISSION_DENIED", facts{path: path})
		}
		return nil
	}
	address := strings.TrimLeft(strings.TrimPrefix(target, "dns:"), "/")
	match := hostPortPattern.FindStringSubmatch(address)
	if match == nil {
		return nil
	}
	host := match[1] + match[2]
	dialer := &net.Dialer{Timeout: ProbeTimeout}
	conn, err := dialer.Dial("tcp", address)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return diagnosis("CONNECTION_REFUSED", facts{address: address})
		}
		return nil
	}
	conn.Close()
	if tlsOptions == nil {
		// A plain client: does the port speak TLS?
		probe, err := tls.DialWithDialer(dialer, "tcp", address, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}) //nolint:gosec // only asks whether TLS is spoken
		if err != nil {
			return nil
		}
		probe.Close()
		return diagnosis("TLS_EXPECTED", facts{address: address})
	}
	// The handshake the channel makes: same CA, name and client certificate.
	config, err := tlsConfig(tlsOptions)
	if err != nil {
		return nil
	}
	name := tlsOptions.ServerName
	if name == "" {
		name = host
	}
	config.ServerName = name
	config.NextProtos = []string{"h2"}
	secured, err := tls.DialWithDialer(dialer, "tcp", address, config)
	if err == nil {
		defer secured.Close()
		// TLS 1.3: the daemon checks the client certificate after the client's side of the
		// handshake is done, and drops a refused one before any HTTP/2 frame.
		if h2, cut := answersHTTP2(secured); !h2 && cut && tlsOptions.Cert != "" {
			return diagnosis("TLS_CLIENT_CERT_REFUSED", facts{address: address, cert: tlsOptions.Cert})
		}
		return nil
	}
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var alert tls.AlertError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return diagnosis("TLS_CERT_EXPIRED", facts{address: address})
	case errors.As(err, &hostname):
		return diagnosis("TLS_SERVER_NAME", facts{address: address, name: name})
	case errors.As(err, &unknown):
		trusted := "the system's roots"
		if tlsOptions.CA != "" {
			trusted = "the CA file " + tlsOptions.CA
		}
		return diagnosis("TLS_UNKNOWN_CA", facts{address: address, trusted: trusted})
	case errors.As(err, &alert) && tlsOptions.Cert != "":
		return diagnosis("TLS_CLIENT_CERT_REFUSED", facts{address: address, cert: tlsOptions.Cert})
	}
	// Not a TLS answer at all: is it a plain gRPC listener?
	plain, err := dialer.Dial("tcp", address)
	if err != nil {
		return nil
	}
	defer plain.Close()
	if h2, _ := answersHTTP2(plain); h2 {
		return diagnosis("TLS_NOT_SPOKEN", facts{address: address})
	}
	return nil
}

// diagnosed turns a call's error into an *Error (so errors.As works on raw generated clients'
// errors too); an Unavailable one names the problem the probe finds.
func diagnosed(err error, target string, tlsOptions *TLSOptions) error {
	if err == nil {
		return nil
	}
	if status.Code(err) != codes.Unavailable {
		return wrap(err)
	}
	var known *Error
	if errors.As(err, &known) && known.ConnectionProblem != "" {
		return err
	}
	// A failure the daemon itself sent (with a google.rpc.Status) means it was reached: no probe.
	if st, ok := status.FromError(err); ok && len(st.Details()) > 0 {
		return wrap(err)
	}
	found := DiagnoseConnection(target, tlsOptions)
	if found == nil {
		return wrap(err)
	}
	original := status.Convert(err)
	e := errorOf(status.New(codes.Unavailable, found.Message))
	e.ConnectionProblem = found.Problem
	e.TransportDetails = original.Message()
	return e
}

// diagnosisInterceptors make every call's error an *Error (raw generated clients included) and
// name the problem of one that cannot reach the daemon.
func diagnosisInterceptors(target string, tlsOptions *TLSOptions) []grpc.DialOption {
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return diagnosed(invoker(ctx, method, req, reply, cc, opts...), target, tlsOptions)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, diagnosed(err, target, tlsOptions)
		}
		return &diagnosedStream{ClientStream: s, target: target, tls: tlsOptions}, nil
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
}

type diagnosedStream struct {
	grpc.ClientStream
	target string
	tls    *TLSOptions
}

func (s *diagnosedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return diagnosed(err, s.target, s.tls)
}
