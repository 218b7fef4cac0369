package corral_test

// Every case of test/fixtures/connection-errors.json against real daemons: an unreachable
// daemon is an *Error with code Unavailable whose ConnectionProblem and message are the table's;
// a refused token is Unauthenticated with the daemon's reason. The daemons and files come from
// the repository's scene helper (the same the TS and Python tests use).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc/status"
)

type sceneCase struct {
	Problem     string                                      `json:"problem"`
	Reason      string                                      `json:"reason"`
	Code        string                                      `json:"code"`
	Address     string                                      `json:"address"`
	TLS         *struct{ CA, Cert, Key, ServerName string } `json:"tls"`
	Token       string                                      `json:"token"`
	AsOtherUser bool                                        `json:"asOtherUser"`
	Message     string                                      `json:"message"`
}

type outcome struct {
	Code    string `json:"code"`
	Details string `json:"details"`
	Problem string `json:"problem"`
	Reason  string `json:"reason"`
}

// The environment variable that makes the test binary one call of a case (run as another user).
const connectCaseEnv = "CORRAL_TEST_CONNECT_CASE"

func callCase(c sceneCase) outcome {
	options := corral.Options{Token: c.Token}
	if c.TLS != nil {
		options.TLS = &corral.TLSOptions{CA: c.TLS.CA, Cert: c.TLS.Cert, Key: c.TLS.Key, ServerName: c.TLS.ServerName}
	}
	client, err := corral.DialWith(c.Address, options)
	if err != nil {
		return outcome{Code: "dial: " + err.Error()}
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = client.ProcessManager.GetServerInfo(ctx, &corralv1.GetServerInfoRequest{})
	if err == nil {
		return outcome{Code: "OK"}
	}
	var e *corral.Error
	if !errors.As(err, &e) {
		return outcome{Code: "not a *corral.Error: " + err.Error()}
	}
	return outcome{Code: codeName(status.Code(err).String()), Details: e.Message(), Problem: e.ConnectionProblem, Reason: e.Reason}
}

// codeName is the upper-case name the table uses ("Unavailable" -> "UNAVAILABLE").
func codeName(goName string) string {
	names := map[string]string{"Unavailable": "UNAVAILABLE", "Unauthenticated": "UNAUTHENTICATED", "OK": "OK"}
	if name, ok := names[goName]; ok {
		return name
	}
	return goName
}

// connectCaseMain is the test binary run as uid 65534: one call, its outcome as JSON on stdout.
func connectCaseMain() int {
	var c sceneCase
	if err := json.Unmarshal([]byte(os.Getenv(connectCaseEnv)), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out, _ := json.Marshal(callCase(c))
	fmt.Println(string(out))
	return 0
}

// callAsOtherUser runs this test binary as uid 65534 for one case (root passes every file mode).
func callAsOtherUser(t *testing.T, c sceneCase) outcome {
	// The binary lives in go's 0700 build directory: a copy where the other user may run it.
	// (t.TempDir's parent is 0700, so a directory of its own under the system's temp dir.)
	dir, err := os.MkdirTemp("", "corral-go-other-user-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "corral.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, data, 0o755); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	cmd := exec.Command(copyPath)
	cmd.Env = []string{connectCaseEnv + "=" + string(raw)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the test binary as uid 65534: %v", err)
	}
	var result outcome
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return result
}

func TestConnectionProblemsAreNamed(t *testing.T) {
	work := t.TempDir()
	// A client run as another user must reach the scene's files (the CA, its certificates).
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	helper := exec.Command("node", filepath.Join(repoRoot, "dist/test/helpers/serve-connection-scene.js"), work)
	helper.Stderr = os.Stderr
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	// Closing its stdin stops the scene's daemons; the helper is ours, waited for by its pid.
	defer func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- helper.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = helper.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	var scene struct {
		Cases []sceneCase `json:"cases"`
		Good  struct {
			Address string
			TLS     struct{ CA, Cert, Key string }
			Token   string
		} `json:"good"`
	}
	if err := json.Unmarshal([]byte(line), &scene); err != nil {
		t.Fatalf("scene helper: %v: %q", err, line)
	}
	good := sceneCase{Address: scene.Good.Address, Token: scene.Good.Token}
	good.TLS = &struct{ CA, Cert, Key, ServerName string }{CA: scene.Good.TLS.CA, Cert: scene.Good.TLS.Cert, Key: scene.Good.TLS.Key}
	if got := callCase(good); got.Code != "OK" {
		t.Fatalf("the scene is not sound: TLS with the CA, alice's certificate and the token: %+v", got)
	}
	var table struct {
		Cases []struct{ Problem, Reason string } `json:"cases"`
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, "test/fixtures/connection-errors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(scene.Cases) != len(table.Cases) || len(table.Cases) < 10 {
		t.Fatalf("the scene has %d cases, the table %d", len(scene.Cases), len(table.Cases))
	}
	for _, c := range scene.Cases {
		name := c.Problem + c.Reason
		t.Run(name, func(t *testing.T) {
			var got outcome
			if c.AsOtherUser {
				got = callAsOtherUser(t, c)
			} else {
				got = callCase(c)
			}
			want := outcome{Code: c.Code, Details: c.Message, Problem: c.Problem, Reason: c.Reason}
			if got != want {
				t.Errorf("\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}
