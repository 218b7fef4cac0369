// Package corral dials a corral daemon with the same address rules as the CLI and the TS and
// Python clients, and bundles the three generated service clients (package corralv1).
package corral

import (
	"os"
	"path/filepath"
	"strings"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Client is one connection to a daemon with a client per service. Close it when done.
type Client struct {
	// Target is the resolved grpc target ("unix:///abs/path.sock" or "host:port").
	Target         string
	Conn           *grpc.ClientConn
	ProcessManager corralv1.ProcessManagerClient
	TaskRunner     corralv1.TaskRunnerClient
	ProcessMonitor corralv1.ProcessMonitorClient
}

// DefaultHome is the daemon's home: $CORRAL_HOME, else ~/.corral.
func DefaultHome() string {
	if home := os.Getenv("CORRAL_HOME"); home != "" {
		if abs, err := filepath.Abs(home); err == nil {
			return abs
		}
		return home
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		dir = "/"
	}
	return filepath.Join(dir, ".corral")
}

// SocketPath is the Unix socket of a daemon home.
func SocketPath(home string) string { return filepath.Join(home, "corral.sock") }

// ResolveAddress turns a user-given address into a grpc target. It accepts
// "unix:///abs/path", "unix:/abs/path", a path to a socket (absolute, starting with ".", or
// ending in ".sock"), or "host:port". An empty address means $CORRAL_ADDRESS, then the socket
// in the default home.
func ResolveAddress(address string) string {
	given := address
	if given == "" {
		given = os.Getenv("CORRAL_ADDRESS")
	}
	if given == "" {
		given = SocketPath(DefaultHome())
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	switch {
	case strings.HasPrefix(given, "unix://"):
		return "unix:///" + strings.TrimLeft(strings.TrimPrefix(given, "unix://"), "/")
	case strings.HasPrefix(given, "unix:"):
		return "unix:///" + strings.TrimLeft(abs(strings.TrimPrefix(given, "unix:")), "/")
	case strings.HasPrefix(given, "/") || strings.HasPrefix(given, ".") || strings.HasSuffix(given, ".sock"):
		return "unix:///" + strings.TrimLeft(abs(given), "/")
	}
	return given
}

// Dial connects to the daemon at address (see ResolveAddress; "" for the default). The
// connection is lazy: errors surface on the first call. Extra options are appended (the
// default is an insecure channel: the Unix socket (0600) or loopback TCP; use DialWith for TLS
// and tokens).
func Dial(address string, opts ...grpc.DialOption) (*Client, error) {
	return DialWith(address, Options{}, opts...)
}

// DialWith is Dial with TLS and a bearer token (see Options). Only unreadable TLS or token
// files fail here; everything else surfaces on the first call.
func DialWith(address string, options Options, opts ...grpc.DialOption) (*Client, error) {
	target := ResolveAddress(address)
	secure, err := dialOptionsOf(target, options)
	if err != nil {
		return nil, err
	}
	all := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, secure...)
	// An unreachable daemon is probed and named (connection.go), for every call.
	all = append(all, diagnosisInterceptors(target, options.TLS)...)
	conn, err := grpc.NewClient(target, append(all, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Client{
		Target:         target,
		Conn:           conn,
		ProcessManager: corralv1.NewProcessManagerClient(conn),
		TaskRunner:     corralv1.NewTaskRunnerClient(conn),
		ProcessMonitor: corralv1.NewProcessMonitorClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.Conn.Close() }
