package corral_test

// The Go client against a real daemon: processes, logs, events, tasks, locks, signals, stats
// and monitored runs, through the generated clients that corral.Dial returns.

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

func value(t *testing.T, v any) *structpb.Value {
	t.Helper()
	out, err := structpb.NewValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResolveAddressFollowsTheCLIRules(t *testing.T) {
	t.Setenv("CORRAL_ADDRESS", "")
	t.Setenv("CORRAL_HOME", "/srv/corral")
	cases := map[string]string{
		"":                   "unix:///srv/corral/corral.sock",
		"/tmp/d.sock":        "unix:///tmp/d.sock",
		"unix:///tmp/d.sock": "unix:///tmp/d.sock",
		"unix:/tmp/d.sock":   "unix:///tmp/d.sock",
		"127.0.0.1:7070":     "127.0.0.1:7070",
	}
	for in, want := range cases {
		if got := corral.ResolveAddress(in); got != want {
			t.Errorf("ResolveAddress(%q) = %q, want %q", in, got, want)
		}
	}
	wd, _ := os.Getwd()
	if got, want := corral.ResolveAddress("./d.sock"), "unix://"+filepath.Join(wd, "d.sock"); got != want {
		t.Errorf("relative path: got %q, want %q", got, want)
	}
	t.Setenv("CORRAL_ADDRESS", "127.0.0.1:9")
	if got := corral.ResolveAddress(""); got != "127.0.0.1:9" {
		t.Errorf("$CORRAL_ADDRESS not used: %q", got)
	}
}

func TestDialUsesCorralHomeByDefault(t *testing.T) {
	t.Setenv("CORRAL_ADDRESS", "")
	t.Setenv("CORRAL_HOME", daemonHome)
	c, err := corral.Dial("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.ProcessManager.GetServerInfo(ctxFor(t, 10*time.Second), &corralv1.GetServerInfoRequest{})
	if err != nil || info.Pid <= 0 {
		t.Fatalf("GetServerInfo: %v %v", info, err)
	}
}

func TestStartStatusStop(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	started, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "ticker"})
	if err != nil {
		t.Fatal(err)
	}
	if started.Process.State != corralv1.ProcessState_PROCESS_STATE_RUNNING || started.Process.Run.Pid <= 0 {
		t.Fatalf("after start: %v", started.Process)
	}
	got, err := c.ProcessManager.GetProcess(ctx, &corralv1.GetProcessRequest{Name: "ticker"})
	if err != nil || got.Process.Run.Pid != started.Process.Run.Pid {
		t.Fatalf("GetProcess: %v %v", got, err)
	}
	stopped, err := c.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: "ticker"})
	if err != nil || stopped.Process.State != corralv1.ProcessState_PROCESS_STATE_STOPPED {
		t.Fatalf("StopProcess: %v %v", stopped, err)
	}
}

func TestUnknownProgramIsNotFound(t *testing.T) {
	_, err := dial(t).ProcessManager.GetProcess(ctxFor(t, 10*time.Second), &corralv1.GetProcessRequest{Name: "no-such-program"})
	if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), "no-such-program") {
		t.Fatalf("want NOT_FOUND naming the program, got %v", err)
	}
}

func TestFollowLogsStreamsNewLines(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	if _, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "ticker"}); err != nil {
		t.Fatal(err)
	}
	defer c.ProcessManager.StopProcess(ctxFor(t, 30*time.Second), &corralv1.StopProcessRequest{Name: "ticker"})
	stream, err := c.ProcessManager.FollowLogs(ctx, &corralv1.FollowLogsRequest{Name: "ticker", Stream: corralv1.LogStream_LOG_STREAM_STDOUT})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for strings.Count(text.String(), "tick ") < 5 {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %q: %v", text.String(), err)
		}
		text.Write(msg.Chunk.Data)
	}
}

func TestWatchEventsSeesAStartBeforeItsExit(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	started, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "sleeper"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: "sleeper"}); err != nil {
		t.Fatal(err)
	}
	// From the start of the journal: this run's start must come before its exit.
	stream, err := c.ProcessManager.WatchEvents(ctx, &corralv1.WatchEventsRequest{Programs: []string{"sleeper"}})
	if err != nil {
		t.Fatal(err)
	}
	runID := started.Process.Run.RunId
	var kinds []string
	var lastSeq uint64
	for len(kinds) == 0 || kinds[len(kinds)-1] != "exited" {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", kinds, err)
		}
		ev := msg.GetEvent()
		if ev == nil {
			t.Fatalf("unexpected gap: %v", msg)
		}
		if ev.Seq <= lastSeq {
			t.Fatalf("sequence numbers not increasing: %d after %d", ev.Seq, lastSeq)
		}
		lastSeq = ev.Seq
		switch {
		case ev.RunId != runID:
		case ev.GetProcessStarted() != nil:
			kinds = append(kinds, "started")
		case ev.GetProcessExited() != nil:
			kinds = append(kinds, "exited")
		}
	}
	if kinds[0] != "started" {
		t.Fatalf("want started before exited, got %v", kinds)
	}
}

func TestATaskIsCreatedSteeredWithSettingsAndJoined(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 60*time.Second)
	tr := c.TaskRunner
	if _, err := tr.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: "go-counter", Type: "example_counter", Settings: value(t, map[string]any{"step": 5})}); err != nil {
		t.Fatal(err)
	}
	defer tr.RemoveTask(ctxFor(t, 30*time.Second), &corralv1.RemoveTaskRequest{Name: "go-counter"})
	if _, err := tr.StartTask(ctx, &corralv1.StartTaskRequest{Name: "go-counter"}); err != nil {
		t.Fatal(err)
	}
	count := func() float64 {
		s, err := tr.GetStatus(ctx, &corralv1.GetStatusRequest{Name: "go-counter"})
		if err != nil {
			t.Fatal(err)
		}
		return s.Status.GetStructValue().GetFields()["count"].GetNumberValue()
	}
	waitFor(t, 10*time.Second, "the first count", func() bool { return count() >= 5 })
	if _, err := tr.SetSettings(ctx, &corralv1.SetSettingsRequest{Name: "go-counter", Settings: value(t, map[string]any{"step": 100})}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a count with the new step", func() bool { return count() >= 105 })
	_, err := tr.SetSettings(ctx, &corralv1.SetSettingsRequest{Name: "go-counter", Settings: value(t, map[string]any{"step": -1})})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "step") {
		t.Fatalf("want INVALID_ARGUMENT naming step, got %v", err)
	}
	if _, err := tr.StopTask(ctx, &corralv1.StopTaskRequest{Name: "go-counter"}); err != nil {
		t.Fatal(err)
	}
	joined, err := tr.JoinTask(ctx, &corralv1.JoinTaskRequest{Name: "go-counter", Timeout: durationpb.New(10 * time.Second)})
	if err != nil || joined.Task.State != corralv1.TaskState_TASK_STATE_STOPPED {
		t.Fatalf("JoinTask: %v %v", joined, err)
	}
}

func TestALockFromOneClientRefusesTheOther(t *testing.T) {
	owner, other, ctx := dial(t), dial(t), ctxFor(t, 30*time.Second)
	if _, err := owner.TaskRunner.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: "go-locked", Type: "example_counter"}); err != nil {
		t.Fatal(err)
	}
	lock, err := owner.TaskRunner.Lock(ctx, &corralv1.LockRequest{Name: "go-locked"})
	if err != nil || !lock.Granted || lock.Token == "" {
		t.Fatalf("Lock: %v %v", lock, err)
	}
	second, err := other.TaskRunner.Lock(ctx, &corralv1.LockRequest{Name: "go-locked"})
	if err != nil || second.Granted {
		t.Fatalf("the second client's Lock must not be granted: %v %v", second, err)
	}
	_, err = other.TaskRunner.StartTask(ctx, &corralv1.StartTaskRequest{Name: "go-locked"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("want FAILED_PRECONDITION for the other client, got %v", err)
	}
	if _, err := owner.TaskRunner.StartTask(ctx, &corralv1.StartTaskRequest{Name: "go-locked", Token: lock.Token}); err != nil {
		t.Fatalf("the owner's start with its token: %v", err)
	}
	if _, err := owner.TaskRunner.Unlock(ctx, &corralv1.UnlockRequest{Name: "go-locked", Token: lock.Token}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.TaskRunner.RemoveTask(ctx, &corralv1.RemoveTaskRequest{Name: "go-locked"}); err != nil {
		t.Fatalf("after unlock the other client may drive the task: %v", err)
	}
}

func TestSignalsStream(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	tr := c.TaskRunner
	if _, err := tr.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: "go-signals", Type: "example_counter"}); err != nil {
		t.Fatal(err)
	}
	defer tr.RemoveTask(ctxFor(t, 30*time.Second), &corralv1.RemoveTaskRequest{Name: "go-signals"})
	stream, err := tr.WatchSignals(ctx, &corralv1.WatchSignalsRequest{Tasks: []string{"go-signals"}, Names: []string{"tick"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.StartTask(ctx, &corralv1.StartTaskRequest{Name: "go-signals"}); err != nil {
		t.Fatal(err)
	}
	var ticks []*corralv1.TaskSignal
	for len(ticks) < 2 {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if s := msg.GetSignal(); s != nil {
			ticks = append(ticks, s)
		}
	}
	if ticks[0].Seq >= ticks[1].Seq || ticks[0].Payload.GetNumberValue() != 1 || ticks[1].Payload.GetNumberValue() != 2 {
		t.Fatalf("want ticks 1 then 2 in seq order, got %v", ticks)
	}
}

func TestStatsOfARunningProgram(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	started, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "sleeper"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.ProcessManager.StopProcess(ctxFor(t, 30*time.Second), &corralv1.StopProcessRequest{Name: "sleeper"})
	stats, err := c.ProcessMonitor.GetStats(ctx, &corralv1.GetStatsRequest{
		Target:   &corralv1.StatsTarget{Target: &corralv1.StatsTarget_Program{Program: "sleeper"}},
		Interval: durationpb.New(200 * time.Millisecond),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := stats.Sample.Process
	if p.Pid != started.Process.Run.Pid || p.Name != "sleep" || p.RssBytes == 0 || p.CpuPercent == nil {
		t.Fatalf("unexpected sample: %v", p)
	}
}

func TestAMonitoredRunWithoutProgressTimesOut(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	stream, err := c.ProcessMonitor.RunMonitored(ctx, &corralv1.RunMonitoredRequest{
		Command:           "/bin/sh",
		Args:              []string{"-c", "while true; do echo working; sleep 0.1; done"},
		InactivityTimeout: durationpb.New(700 * time.Millisecond),
		KillGrace:         durationpb.New(2 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	var result *corralv1.MonitoredResult
	outputs := 0
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetOutput() != nil {
			outputs++
		}
		if r := msg.GetResult(); r != nil {
			result = r
		}
	}
	if result == nil || outputs == 0 {
		t.Fatalf("want output then a result, got %d outputs, result %v", outputs, result)
	}
	if result.Outcome != corralv1.MonitoredOutcome_MONITORED_OUTCOME_TIMED_OUT || result.Timeout != corralv1.TimeoutKind_TIMEOUT_KIND_INACTIVITY {
		t.Fatalf("want TIMED_OUT (inactivity), got %v", result)
	}
}
