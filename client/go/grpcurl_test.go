package corral_test

// A generic client (grpcurl, installed at a pinned version by scripts/install-tools.sh) finds
// the services through server reflection and calls them with no .proto files at hand.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
)

func grpcurl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(repoRoot, ".tools/bin/grpcurl")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run scripts/install-tools.sh", bin)
	}
	all := append([]string{"-plaintext", "-unix"}, args...)
	out, err := exec.Command(bin, all...).CombinedOutput()
	return string(out), err
}

func TestGrpcurlListsServicesThroughReflection(t *testing.T) {
	out, err := grpcurl(t, daemonSocket, "list")
	if err != nil {
		t.Fatalf("grpcurl list: %v\n%s", err, out)
	}
	for _, service := range []string{"corral.v1.ProcessManager", "corral.v1.TaskRunner", "corral.v1.ProcessMonitor", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(out, service+"\n") {
			t.Errorf("grpcurl list does not show %s:\n%s", service, out)
		}
	}
}

func TestGrpcurlCallsHealthCheckThroughReflection(t *testing.T) {
	out, err := grpcurl(t, "-d", `{"service": "corral.v1.ProcessManager"}`, daemonSocket, "grpc.health.v1.Health/Check")
	if err != nil || !strings.Contains(out, `"status": "SERVING"`) {
		t.Fatalf("grpcurl Health/Check: %v\n%s", err, out)
	}
	out, err = grpcurl(t, daemonSocket, "describe", "grpc.health.v1.Health")
	if err != nil || !strings.Contains(out, "rpc Check") {
		t.Fatalf("grpcurl describe grpc.health.v1.Health: %v\n%s", err, out)
	}
}

func TestGrpcurlCallsGetProcess(t *testing.T) {
	out, err := grpcurl(t, "-d", `{"name": "ticker"}`, daemonSocket, "corral.v1.ProcessManager/GetProcess")
	if err != nil {
		t.Fatalf("grpcurl GetProcess: %v\n%s", err, out)
	}
	var response struct {
		Process struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"process"`
	}
	if err := json.Unmarshal([]byte(out), &response); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if response.Process.Name != "ticker" || !strings.HasPrefix(response.Process.State, "PROCESS_STATE_") {
		t.Fatalf("unexpected response: %s", out)
	}
	out, err = grpcurl(t, "-d", `{"name": "nope"}`, daemonSocket, "corral.v1.ProcessManager/GetProcess")
	if err == nil || !strings.Contains(out, "NotFound") {
		t.Fatalf("want NotFound for an unknown program, got %v\n%s", err, out)
	}
	// The typed details (grpc-status-details-bin), decoded by grpcurl through reflection.
	for _, want := range []string{"google.rpc.ErrorInfo", `"reason": "PROGRAM_NOT_FOUND"`, "google.rpc.ResourceInfo"} {
		if !strings.Contains(out, want) {
			t.Errorf("grpcurl does not show %s in the error:\n%s", want, out)
		}
	}
}

func TestGrpcurlFollowsAServerStreamUntilItsMaxTime(t *testing.T) {
	// Make sure the journal holds events of sleeper, then stream them for 2 s.
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	if _, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "sleeper"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: "sleeper"}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	out, err := grpcurl(t, "-max-time", "2", "-d", `{"programs": ["sleeper"]}`, daemonSocket, "corral.v1.ProcessManager/WatchEvents")
	elapsed := time.Since(started)
	// The stream never ends by itself: grpcurl stops it at -max-time with DeadlineExceeded.
	if err == nil || !strings.Contains(out, "DeadlineExceeded") {
		t.Fatalf("want the stream cut by -max-time, got %v\n%s", err, out)
	}
	if !strings.Contains(out, `"processStarted"`) || !strings.Contains(out, `"processExited"`) {
		t.Fatalf("want journaled start and exit events, got:\n%s", out)
	}
	if elapsed < 1500*time.Millisecond || elapsed > 20*time.Second {
		t.Fatalf("grpcurl ran %v; want about 2 s", elapsed)
	}
}
