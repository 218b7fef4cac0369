// CGSE's egse.process helpers in Go's idiom, over FindProcesses and ListZombies, and WatchStats
// as a channel (gaffer's monitor(listener)).
package corral

import (
	"context"
	"strings"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
)

// FindOptions are CGSE's matching rules: Exact (contains=false) makes an argument equal an item;
// CaseSensitive compares case-sensitively (default: not).
type FindOptions struct {
	Exact         bool
	CaseSensitive bool
}

// FindProcesses lists the host's processes whose command line matches every item.
func (c *Client) FindProcesses(ctx context.Context, items []string, opts FindOptions) ([]*corralv1.ProcessEntry, error) {
	contains, caseSensitive := !opts.Exact, opts.CaseSensitive
	r, err := c.ProcessMonitor.FindProcesses(ctx, &corralv1.FindProcessesRequest{Items: items, Contains: &contains, CaseSensitive: &caseSensitive})
	if err != nil {
		return nil, err
	}
	return r.Processes, nil
}

// ProcessPids is CGSE's is_process_running(..., as_list=True): the pids of the matching processes.
func (c *Client) ProcessPids(ctx context.Context, items []string, opts FindOptions) ([]int32, error) {
	found, err := c.FindProcesses(ctx, items, opts)
	pids := make([]int32, 0, len(found))
	for _, p := range found {
		pids = append(pids, p.Pid)
	}
	return pids, err
}

// IsProcessRunning is CGSE's is_process_running: whether a process matching every item runs.
func (c *Client) IsProcessRunning(ctx context.Context, items []string, opts FindOptions) (bool, error) {
	pids, err := c.ProcessPids(ctx, items, opts)
	return len(pids) > 0, err
}

// HostProcess is one entry of CGSE's list_processes: the pid, the status in psutil's words
// ("running", "sleeping", "zombie"...) and the command line joined by spaces.
type HostProcess struct {
	Pid     int32
	Status  string
	Cmdline string
}

// procStatus is psutil's word for each state letter of /proc/PID/stat (psutil's PROC_STATUSES).
var procStatus = map[string]string{
	"R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop", "Z": "zombie",
	"X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "P": "parked", "I": "idle",
}

// StatusOf is psutil's word for a ProcessEntry's state letter (the letter itself when psutil has none).
func StatusOf(state string) string {
	if word, ok := procStatus[state]; ok {
		return word
	}
	return state
}

// ListHostProcesses is CGSE's list_processes: the host's processes whose command line matches
// every item, as pid, status and command line (named so beside ProcessManager.ListProcesses,
// which lists programs). Like CGSE, at least one item is needed.
func (c *Client) ListHostProcesses(ctx context.Context, items []string, opts FindOptions) ([]HostProcess, error) {
	found, err := c.FindProcesses(ctx, items, opts)
	if err != nil {
		return nil, err
	}
	listed := make([]HostProcess, 0, len(found))
	for _, p := range found {
		listed = append(listed, HostProcess{Pid: p.Pid, Status: StatusOf(p.State), Cmdline: strings.Join(p.Cmdline, " ")})
	}
	return listed, nil
}

// ListZombies is CGSE's list_zombies: the host's zombie processes.
func (c *Client) ListZombies(ctx context.Context) ([]*corralv1.ZombieProcess, error) {
	r, err := c.ProcessMonitor.ListZombies(ctx, &corralv1.ListZombiesRequest{})
	if err != nil {
		return nil, err
	}
	return r.Zombies, nil
}

// WatchStats streams ticks (one sample per target, in request order) on a channel until ctx ends
// or the stream fails; the error channel then gets the reason (nil after a cancel) and both close.
// The ticks channel holds one tick: a slow reader holds up the stream, never grows memory.
func (c *Client) WatchStats(ctx context.Context, request *corralv1.WatchStatsRequest) (<-chan *corralv1.WatchStatsResponse, <-chan error) {
	ticks, errs := make(chan *corralv1.WatchStatsResponse, 1), make(chan error, 1)
	go func() {
		defer close(ticks)
		defer close(errs)
		stream, err := c.ProcessMonitor.WatchStats(ctx, request)
		if err != nil {
			errs <- err
			return
		}
		for {
			tick, err := stream.Recv()
			if err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				errs <- err
				return
			}
			select {
			case ticks <- tick:
			case <-ctx.Done():
				errs <- nil
				return
			}
		}
	}()
	return ticks, errs
}
