package corral_test

// A generic client (grpcurl, installed at a pinned version by scripts/install-tools.sh) finds
// the services through server reflection, shows their comments and calls them with no .proto
// files at hand; an older client speaking reflection v1alpha (grpc-go's own stubs) does too.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
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

func TestGrpcurlDescribeShowsTheProtoComments(t *testing.T) {
	// Each symbol with a line of the comment above it in proto/corral/v1 (read from the file,
	// so the test follows the proto): a service, an rpc, a message and a field.
	source, err := os.ReadFile(filepath.Join(repoRoot, "proto/corral/v1/process_manager.proto"))
	if err != nil {
		t.Fatal(err)
	}
	commentAbove := func(declaration string) string {
		lines := strings.Split(string(source), "\n")
		for i, line := range lines {
			if strings.HasPrefix(strings.TrimSpace(line), declaration) && i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "//") {
				return strings.TrimSpace(lines[i-1])
			}
		}
		t.Fatalf("no comment above %q in process_manager.proto", declaration)
		return ""
	}
	for symbol, declaration := range map[string]string{
		"corral.v1.ProcessManager":             "service ProcessManager",
		"corral.v1.ProcessManager.StopProcess": "rpc StopProcess(",
		"corral.v1.StopProcessRequest":         "message StopProcessRequest",
	} {
		want := commentAbove(declaration)
		out, err := grpcurl(t, daemonSocket, "describe", symbol)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("grpcurl describe %s: want the comment %q, got %v\n%s", symbol, want, err, out)
		}
	}
	// The whole server at once: every listed service resolves (reflection describes itself and health too).
	out, err := grpcurl(t, daemonSocket, "describe")
	if err != nil {
		t.Fatalf("grpcurl describe: %v\n%s", err, out)
	}
	for _, service := range []string{"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "corral.v1.ProcessMonitor"} {
		if !strings.Contains(out, service+" is a service:") {
			t.Errorf("grpcurl describe does not describe %s:\n%s", service, out)
		}
	}
}

func TestReflectionV1AlphaListsTheServices(t *testing.T) {
	c, err := corral.Dial(daemonSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stream, err := reflectionv1alpha.NewServerReflectionClient(c.Conn).ServerReflectionInfo(ctxFor(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionv1alpha.ServerReflectionRequest{MessageRequest: &reflectionv1alpha.ServerReflectionRequest_ListServices{ListServices: "*"}}); err != nil {
		t.Fatal(err)
	}
	response, err := stream.Recv()
	if err != nil {
		t.Fatalf("v1alpha ServerReflectionInfo: %v", err)
	}
	var names []string
	for _, service := range response.GetListServicesResponse().GetService() {
		names = append(names, service.GetName())
	}
	for _, want := range []string{"corral.v1.ProcessManager", "corral.v1.TaskRunner", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} {
		if !strings.Contains(strings.Join(names, " ")+" ", want+" ") {
			t.Errorf("v1alpha list_services lacks %s: %v", want, names)
		}
	}
	_ = stream.CloseSend()
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
