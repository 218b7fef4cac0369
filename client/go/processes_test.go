// CGSE's helpers and WatchStats as a channel against the test daemon.
package corral_test

import (
	"context"
	"testing"
	"time"

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
