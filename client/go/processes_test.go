// CGSE's helpers and WatchStats as a channel against the test daemon.
package corral_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	corral "github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
)

func TestCGSEHelpersAndWatchStatsChannel(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 60*time.Second)
	started, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "sleeper", Wait: corralv1.StartWait_START_WAIT_RUNNING})
	if err != nil {
		t.Fatal(err)
	}
	defer c.ProcessManager.StopProcess(ctxFor(t, 30*time.Second), &corralv1.StopProcessRequest{Name: "sleeper"})
	pid := started.Process.Run.Pid
	pids, err := c.ProcessPids(ctx, []string{"sleep", "1000"}, corral.FindOptions{})
	if err != nil || len(pids) != 1 || pids[0] != pid {
		t.Fatalf("ProcessPids: want [%d], got %v %v", pid, pids, err)
	}
	if running, err := c.IsProcessRunning(ctx, []string{"SLEEP"}, corral.FindOptions{CaseSensitive: true}); err != nil || running {
		t.Fatalf("case-sensitive SLEEP must not match: %v %v", running, err)
	}
	if running, err := c.IsProcessRunning(ctx, []string{"100"}, corral.FindOptions{Exact: true}); err != nil || running {
		t.Fatalf("an exact 100 must not match 1000: %v %v", running, err)
	}
	if _, err := c.ListZombies(ctx); err != nil {
		t.Fatal(err)
	}
	watchCtx, cancel := context.WithCancel(ctx)
	ticks, errs := c.WatchStats(watchCtx, &corralv1.WatchStatsRequest{Targets: []*corralv1.StatsTarget{{Target: &corralv1.StatsTarget_Program{Program: "sleeper"}}}})
	tick := <-ticks
	cancel()
	if tick == nil || len(tick.Samples) != 1 || tick.Samples[0].GetProcess().GetPid() != pid {
		t.Fatalf("want one sample of pid %d, got %v (%v)", pid, tick, <-errs)
	}
	for range ticks {
	}
	if err := <-errs; err != nil {
		t.Fatalf("after a cancel the error is nil, got %v", err)
	}
}

func TestStopReturnsSurvivorsAndHowTheStopWent(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 60*time.Second)
	started, err := c.Start(ctx, "sleeper")
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := c.Stop(ctx, "sleeper")
	if err != nil {
		t.Fatal(err)
	}
	if stopped.State != corralv1.ProcessState_PROCESS_STATE_STOPPED || !stopped.WasRunning() || stopped.Shutdown.GetPid() != started.GetRun().GetPid() {
		t.Fatalf("want STOPPED, was running with pid %d; got %v %v", started.GetRun().GetPid(), stopped.State, stopped.Shutdown)
	}
	if stopped.Shutdown.GetHow() != corralv1.ShutdownHow_SHUTDOWN_HOW_SOFT || len(stopped.Survivors) != 0 {
		t.Fatalf("a soft stop with no survivors, got %v survivors %v", stopped.Shutdown, stopped.Survivors)
	}
	again, err := c.Stop(ctx, "sleeper")
	if err != nil || again.WasRunning() || again.Shutdown.GetHow() != corralv1.ShutdownHow_SHUTDOWN_HOW_NOT_RUNNING {
		t.Fatalf("a second stop finds nothing running: %v %v", again, err)
	}
}

func TestStopAllWithSequentialStopsOneAtATimeInReverseOrder(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 60*time.Second)
	if err := os.WriteFile(orderFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"seq_a", "seq_b"} {
		if _, err := c.Start(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	results, err := c.StopAll(ctx, []string{"seq_a", "seq_b"}, corral.WithSequential(true))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range results {
		order = append(order, r.Name)
		if !r.Ok || r.GetShutdown().GetHow() != corralv1.ShutdownHow_SHUTDOWN_HOW_SOFT {
			t.Fatalf("%s: want a soft stop, got %v", r.Name, r)
		}
	}
	if strings.Join(order, ",") != "seq_b,seq_a" {
		t.Fatalf("want reverse config order, got %v", order)
	}
	noted, _ := os.ReadFile(orderFile)
	if got := strings.Fields(string(noted)); strings.Join(got, " ") != "TERM seq_b EXIT seq_b TERM seq_a EXIT seq_a" {
		t.Fatalf("each program gone before the next one's TERM, got %q", got)
	}
}

func TestListHostProcessesIsCGSEsListProcesses(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 60*time.Second)
	started, err := c.Start(ctx, "sleeper")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctxFor(t, 30*time.Second), "sleeper")
	// Once the child has exec'd sleep (RUNNING comes at once with startsecs 0), it is listed as sleeping.
	want := corral.HostProcess{Pid: started.GetRun().GetPid(), Status: "sleeping", Cmdline: "sleep 1000"}
	var listed []corral.HostProcess
	waitFor(t, 10*time.Second, "the sleeper listed as sleeping", func() bool {
		var err error
		listed, err = c.ListHostProcesses(ctx, []string{"sleep", "1000"}, corral.FindOptions{Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(listed) == 1 && listed[0] == want
	})
	if _, err := c.ListHostProcesses(ctx, nil, corral.FindOptions{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no items: want InvalidArgument (as CGSE's ValueError), got %v", err)
	}
}
