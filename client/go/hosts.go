package corral

// Several hosts, one client: Hosts knows each host's daemon, routes a program to the daemon
// that owns it (the one whose ListProcesses lists it as its own, not remote), and fans calls
// out to every host with a per-host deadline, so an unreachable host is reported
// ("host lab2 unreachable: ...") while the others still answer.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultHostDeadline is how long a fan-out call waits for a host before calling it unreachable.
const DefaultHostDeadline = 5 * time.Second

// Host is one host's daemon: its address (as Dial takes it), its TLS and token settings (as
// DialWith takes them), and any extra grpc dial options.
type Host struct {
	Address     string
	Connect     Options
	DialOptions []grpc.DialOption
}

// HostUnreachableError says a host did not answer: refused, reset, or silent past the deadline.
type HostUnreachableError struct {
	Host   string
	Reason string
}

func (e *HostUnreachableError) Error() string {
	return fmt.Sprintf("host %s unreachable: %s", e.Host, e.Reason)
}

// Hosts holds a connection per host, made on first use. Close it when done.
type Hosts struct {
	// Names are the host names, sorted.
	Names []string
	// Deadline bounds each host's answer in fan-out calls (DefaultHostDeadline if zero).
	Deadline time.Duration

	specs   map[string]Host
	mu      sync.Mutex
	clients map[string]*Client
	owners  map[string]string
}

// NewHosts makes a Hosts for these hosts, keyed by host name.
func NewHosts(hosts map[string]Host) *Hosts {
	names := make([]string, 0, len(hosts))
	for name := range hosts {
		names = append(names, name)
	}
	sort.Strings(names)
	return &Hosts{Names: names, Deadline: DefaultHostDeadline, specs: hosts, clients: map[string]*Client{}, owners: map[string]string{}}
}

// Client is the host's client, dialled on first use.
func (h *Hosts) Client(host string) (*Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clients[host]; ok {
		return c, nil
	}
	spec, ok := h.specs[host]
	if !ok {
		return nil, fmt.Errorf("unknown host %q (hosts: %s)", host, strings.Join(h.Names, ", "))
	}
	c, err := DialWith(spec.Address, spec.Connect, spec.DialOptions...)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", host, err)
	}
	h.clients[host] = c
	return c, nil
}

// IsUnreachable reports whether err means the daemon did not answer at all.
func IsUnreachable(err error) bool {
	var unreachable *HostUnreachableError
	if errors.As(err, &unreachable) {
		return true
	}
	code := status.Code(err)
	return code == codes.Unavailable || code == codes.DeadlineExceeded
}

func (h *Hosts) hostError(host string, err error) error {
	if err == nil || !IsUnreachable(err) {
		return err
	}
	if status.Code(err) == codes.DeadlineExceeded {
		return &HostUnreachableError{Host: host, Reason: fmt.Sprintf("no answer within %v", h.deadline())}
	}
	return &HostUnreachableError{Host: host, Reason: status.Convert(err).Message()}
}

func (h *Hosts) deadline() time.Duration {
	if h.Deadline <= 0 {
		return DefaultHostDeadline
	}
	return h.Deadline
}

// OnEachHost calls fn on every host at once, each with a context bounded by the per-host
// deadline, and returns each host's error (a *HostUnreachableError when it did not answer).
func (h *Hosts) OnEachHost(ctx context.Context, fn func(ctx context.Context, host string, c *Client) error) map[string]error {
	errs := make(map[string]error, len(h.Names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, host := range h.Names {
		wg.Add(1)
		go func(host string) {
			defer wg.Done()
			c, err := h.Client(host)
			if err == nil {
				callCtx, cancel := context.WithTimeout(ctx, h.deadline())
				err = fn(callCtx, host, c)
				cancel()
			}
			mu.Lock()
			errs[host] = h.hostError(host, err)
			mu.Unlock()
		}(host)
	}
	wg.Wait()
	return errs
}

// ListProcesses returns every answering host's own programs (a daemon also lists the other
// hosts' programs as remote: those are left out) and the error of each host that failed.
func (h *Hosts) ListProcesses(ctx context.Context) (map[string][]*corralv1.ProcessInfo, map[string]error) {
	processes := map[string][]*corralv1.ProcessInfo{}
	var mu sync.Mutex
	errs := h.OnEachHost(ctx, func(ctx context.Context, host string, c *Client) error {
		resp, err := c.ProcessManager.ListProcesses(ctx, &corralv1.ListProcessesRequest{})
		if err != nil {
			return err
		}
		var own []*corralv1.ProcessInfo
		for _, p := range resp.GetProcesses() {
			if !p.GetRemote() {
				own = append(own, p)
			}
		}
		mu.Lock()
		processes[host] = own
		mu.Unlock()
		return nil
	})
	failed := map[string]error{}
	for host, err := range errs {
		if err != nil {
			failed[host] = err
		}
	}
	return processes, failed
}

// Owners returns the hosts whose daemon runs program as its own (a program without host runs
// on every host). None found: a host's error if one could not be asked, else NotFound.
func (h *Hosts) Owners(ctx context.Context, program string) ([]string, error) {
	var mu sync.Mutex
	var owners []string
	errs := h.OnEachHost(ctx, func(ctx context.Context, host string, c *Client) error {
		resp, err := c.ProcessManager.GetProcess(ctx, &corralv1.GetProcessRequest{Name: program})
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if !resp.GetProcess().GetRemote() {
			mu.Lock()
			owners = append(owners, host)
			mu.Unlock()
		}
		return nil
	})
	sort.Strings(owners)
	if len(owners) > 0 {
		return owners, nil
	}
	for _, host := range h.Names {
		if errs[host] != nil {
			return nil, errs[host]
		}
	}
	return nil, status.Errorf(codes.NotFound, "no host (%s) runs a program named %q", strings.Join(h.Names, ", "), program)
}

// Owner returns the one host that runs program (remembered once found).
func (h *Hosts) Owner(ctx context.Context, program string) (string, error) {
	h.mu.Lock()
	host, ok := h.owners[program]
	h.mu.Unlock()
	if ok {
		return host, nil
	}
	owners, err := h.Owners(ctx, program)
	if err != nil {
		return "", err
	}
	if len(owners) > 1 {
		return "", status.Errorf(codes.FailedPrecondition, "%q runs on several hosts (%s): use Client(host)", program, strings.Join(owners, ", "))
	}
	h.mu.Lock()
	h.owners[program] = owners[0]
	h.mu.Unlock()
	return owners[0], nil
}

// OnOwner calls fn with the client of the host that runs program; an unanswered call is a
// *HostUnreachableError.
func (h *Hosts) OnOwner(ctx context.Context, program string, fn func(c *Client) error) error {
	host, err := h.Owner(ctx, program)
	if err != nil {
		return err
	}
	c, err := h.Client(host)
	if err != nil {
		return err
	}
	if err := fn(c); err != nil {
		if status.Code(err) == codes.Unavailable {
			return &HostUnreachableError{Host: host, Reason: status.Convert(err).Message()}
		}
		return err
	}
	return nil
}

// Close closes every connection made.
func (h *Hosts) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first error
	for host, c := range h.clients {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
		delete(h.clients, host)
	}
	return first
}
