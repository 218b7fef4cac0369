package corral

// Helpers for the common calls, with a context and options: c.Start(ctx, "web",
// corral.WithTimeout(5*time.Second)). Each returns *Error on failure (see errors.go).

import (
	"context"
	"time"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// CallOption adjusts one helper call.
type CallOption func(*callOptions)

type callOptions struct {
	timeout    time.Duration
	startWait  corralv1.StartWait
	stopWait   corralv1.StopWait
	labels     map[string]string
	sequential *bool
}

// WithTimeout is how long the daemon waits (for RUNNING, for the stop).
func WithTimeout(d time.Duration) CallOption { return func(o *callOptions) { o.timeout = d } }

// WithStartWait says what a start waits for (default RUNNING).
func WithStartWait(w corralv1.StartWait) CallOption { return func(o *callOptions) { o.startWait = w } }

// WithStopWait says whether a stop waits until the group is gone (default yes).
func WithStopWait(w corralv1.StopWait) CallOption { return func(o *callOptions) { o.stopWait = w } }

// WithLabels selects programs by labels in StartAll/StopAll.
func WithLabels(labels map[string]string) CallOption {
	return func(o *callOptions) { o.labels = labels }
}

// WithSequential makes StopAll stop one program at a time in reverse order, each gone before
// the next (QMI's proc_stop); false stops each dependency level at once. Without it, the
// daemon's server.stop_order decides.
func WithSequential(sequential bool) CallOption {
	return func(o *callOptions) { o.sequential = &sequential }
}

func optionsOf(opts []CallOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func durationOf(d time.Duration) *durationpb.Duration {
	if d <= 0 {
		return nil
	}
	return durationpb.New(d)
}

// Status is GetProcess: the program's state, its current (or last) run, its spec.
func (c *Client) Status(ctx context.Context, name string) (*corralv1.ProcessInfo, error) {
	r, err := c.ProcessManager.GetProcess(ctx, &corralv1.GetProcessRequest{Name: name})
	return r.GetProcess(), wrap(err)
}

// Start starts a program and waits until RUNNING; a start that ends FATAL fails with
// FailedPrecondition and reason PROGRAM_FATAL.
func (c *Client) Start(ctx context.Context, name string, opts ...CallOption) (*corralv1.ProcessInfo, error) {
	o := optionsOf(opts)
	r, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: name, Wait: o.startWait, Timeout: durationOf(o.timeout)})
	return r.GetProcess(), wrap(err)
}

// StopResult is how a stop went: the program as it is after the stop (its fields read as a
// ProcessInfo's: r.State, r.GetRun()), the pids of its group still alive after SIGKILL (as
// CGSE's quit() counts them; expected empty), and the ShutdownResult (was it running, its pid,
// soft / hard / survivors / not running).
type StopResult struct {
	*corralv1.ProcessInfo
	Survivors []int32
	Shutdown  *corralv1.ShutdownResult
}

// WasRunning says whether the stop found a run to stop (false: it was not running).
func (r *StopResult) WasRunning() bool { return r.Shutdown.GetWasRunning() }

// Stop stops a program's process group, two-stage; waits until it is gone unless told not to.
// It returns the survivors with the program (see StopResult); nil on error.
func (c *Client) Stop(ctx context.Context, name string, opts ...CallOption) (*StopResult, error) {
	o := optionsOf(opts)
	r, err := c.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: name, Wait: o.stopWait, Timeout: durationOf(o.timeout)})
	if err != nil {
		return nil, wrap(err)
	}
	return &StopResult{ProcessInfo: r.GetProcess(), Survivors: r.GetSurvivors(), Shutdown: r.GetShutdown()}, nil
}

// StartAll starts the named programs (all when none are named); a failed one has Ok false and a Status with details.
func (c *Client) StartAll(ctx context.Context, names []string, opts ...CallOption) ([]*corralv1.ProgramResult, error) {
	o := optionsOf(opts)
	r, err := c.ProcessManager.StartAll(ctx, &corralv1.StartAllRequest{
		Selector: &corralv1.LabelSelector{Names: names, MatchLabels: o.labels}, Wait: o.startWait, Timeout: durationOf(o.timeout),
	})
	return r.GetResults(), wrap(err)
}

// StopAll stops the named programs (all when none are named), dependents first; each result's
// Shutdown says how its stop went. WithSequential(true): one at a time (QMI's order).
func (c *Client) StopAll(ctx context.Context, names []string, opts ...CallOption) ([]*corralv1.ProgramResult, error) {
	o := optionsOf(opts)
	r, err := c.ProcessManager.StopAll(ctx, &corralv1.StopAllRequest{
		Selector: &corralv1.LabelSelector{Names: names, MatchLabels: o.labels}, Wait: o.stopWait, Timeout: durationOf(o.timeout),
		Sequential: o.sequential,
	})
	return r.GetResults(), wrap(err)
}

// FollowLogs streams new output of a program (both streams) until ctx ends.
func (c *Client) FollowLogs(ctx context.Context, name string, tailLines uint32) (corralv1.ProcessManager_FollowLogsClient, error) {
	stream, err := c.ProcessManager.FollowLogs(ctx, &corralv1.FollowLogsRequest{Name: name, TailLines: tailLines})
	return stream, wrap(err)
}

// FollowAllLogs streams new output of every program of this daemon (both streams, after the
// last tailLines lines of each) until ctx ends, like `corral logs`; each chunk's Program says
// whose output it is. The programs are those configured when the call starts.
func (c *Client) FollowAllLogs(ctx context.Context, tailLines uint32) (corralv1.ProcessManager_FollowLogsClient, error) {
	stream, err := c.ProcessManager.FollowLogs(ctx, &corralv1.FollowLogsRequest{AllPrograms: true, TailLines: tailLines})
	return stream, wrap(err)
}

// ReadAllLogs reads the last tailLines lines of stdout and of stderr of every program of this
// daemon (another host's programs are left to that host): one chunk per program and stream, in
// config order, each naming its program.
func (c *Client) ReadAllLogs(ctx context.Context, tailLines uint32) ([]*corralv1.LogChunk, error) {
	list, err := c.ProcessManager.ListProcesses(ctx, &corralv1.ListProcessesRequest{})
	if err != nil {
		return nil, wrap(err)
	}
	var chunks []*corralv1.LogChunk
	for _, p := range list.GetProcesses() {
		if p.GetRemote() {
			continue
		}
		for _, stream := range []corralv1.LogStream{corralv1.LogStream_LOG_STREAM_STDOUT, corralv1.LogStream_LOG_STREAM_STDERR} {
			r, err := c.ProcessManager.ReadLogs(ctx, &corralv1.ReadLogsRequest{Name: p.GetName(), Stream: stream, TailLines: tailLines})
			if err != nil {
				return nil, wrap(err)
			}
			chunks = append(chunks, r.GetChunk())
		}
	}
	return chunks, nil
}

// ApplyOptions adjust ApplyConfig.
type ApplyOptions struct {
	// DryRun computes the diff and changes nothing.
	DryRun bool
	// AllowEmpty accepts a config with no programs, which stops and removes every program
	// (refused with INVALID_ARGUMENT otherwise).
	AllowEmpty bool
}

// ApplyConfig makes the daemon's config programs those of the YAML text, restarting only what
// changed, and returns the diff.
func (c *Client) ApplyConfig(ctx context.Context, text string, opts ApplyOptions) (*corralv1.ConfigDiff, error) {
	r, err := c.ProcessManager.ApplyConfig(ctx, &corralv1.ApplyConfigRequest{
		Source: &corralv1.ApplyConfigRequest_Text{Text: text}, DryRun: opts.DryRun, AllowEmpty: opts.AllowEmpty,
	})
	return r.GetDiff(), wrap(err)
}

// CreateTask creates a task of a type and returns its handle (see Task).
func (c *Client) CreateTask(ctx context.Context, name, taskType string, settings *structpb.Value) (*Task, error) {
	if _, err := c.TaskRunner.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: name, Type: taskType, Settings: settings}); err != nil {
		return nil, wrap(err)
	}
	return c.Task(name), nil
}

// Close releases the handle's lock if it holds one (for defer).
func (t *Task) Close() error {
	if t.Token == "" {
		return nil
	}
	_, err := t.Unlock(context.Background())
	return err
}
