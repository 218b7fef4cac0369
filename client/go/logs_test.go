package corral_test

// Every program's logs from Go, against a real daemon: FollowAllLogs (one stream of everyone's
// output, each chunk naming its program), ReadAllLogs (the last lines of each program and
// stream), and ApplyConfig refusing a config without programs unless AllowEmpty.

import (
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFollowAllLogsTagsEachChunkWithItsProgram(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	if _, err := c.Start(ctx, "ticker"); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctxFor(t, 30*time.Second), "ticker")
	stream, err := c.FollowAllLogs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	ticks := 0
	for ticks < 3 {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %d ticks: %v", ticks, err)
		}
		chunk := msg.GetChunk()
		if n := strings.Count(string(chunk.GetData()), "tick "); n > 0 {
			if chunk.GetProgram() != "ticker" {
				t.Fatalf("ticker's output came as %q's", chunk.GetProgram())
			}
			ticks += n
		}
	}

	chunks, err := c.ReadAllLogs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, chunk := range chunks {
		got = append(got, chunk.GetProgram()+"/"+strings.TrimPrefix(chunk.GetStream().String(), "LOG_STREAM_"))
		if chunk.GetProgram() == "ticker" && chunk.GetStream() == corralv1.LogStream_LOG_STREAM_STDOUT && !strings.HasPrefix(string(chunk.GetData()), "tick ") {
			t.Fatalf("ticker's last stdout line: %q", chunk.GetData())
		}
	}
	// Every program of the daemon, in config order, stdout then stderr.
	list, err := c.ProcessManager.ListProcesses(ctx, &corralv1.ListProcessesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range list.GetProcesses() {
		want = append(want, p.GetName()+"/STDOUT", p.GetName()+"/STDERR")
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || len(want) < 4 {
		t.Fatalf("ReadAllLogs gave %v, want %v", got, want)
	}
}

func TestApplyConfigWithoutProgramsNeedsAllowEmpty(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	_, err := c.ApplyConfig(ctx, "server: {}\n", corral.ApplyOptions{DryRun: true})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "allow_empty") {
		t.Fatalf("want INVALID_ARGUMENT naming allow_empty, got %v", err)
	}
	diff, err := c.ApplyConfig(ctx, "server: {}\n", corral.ApplyOptions{DryRun: true, AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ProcessManager.ListProcesses(ctx, &corralv1.ListProcessesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(diff.GetRemoved()) != len(list.GetProcesses()) || len(diff.GetRemoved()) == 0 {
		t.Fatalf("a dry run of an empty config removes every program: %v", diff.GetRemoved())
	}
}
