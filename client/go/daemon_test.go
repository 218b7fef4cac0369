package corral_test

// A real corral daemon for the tests: `node dist/server/daemon-entry.js` from this checkout
// (build it first: `npm ci` or `npm run build`), in a temp home, stopped by its pid at the end.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
)

// The checkout's root: this package is client/go (go test runs in the package directory).
var repoRoot, _ = filepath.Abs("../..")

var daemonHome, daemonSocket string

// orderFile is where the seq_* programs note their TERM and their exit, in order (processes_test.go).
var orderFile = func() string {
	dir, err := os.MkdirTemp("", "corral-go-order-")
	if err != nil {
		panic(err)
	}
	return filepath.Join(dir, "order")
}()

// slowToStop notes TERM, takes 300 ms, notes its exit: a stop-all that overlaps two shows it. It
// is RUNNING once it says "ready", after its trap is set (a TERM before that would just kill it).
func slowToStop(name string) map[string]any {
	script := fmt.Sprintf("trap 'echo TERM %[1]s >> %[2]s; sleep 0.3; echo EXIT %[1]s >> %[2]s; exit 0' TERM; echo ready; while true; do sleep 0.05; done", name, orderFile)
	return map[string]any{"command": []string{"/bin/sh", "-c", script}, "autostart": false, "stop_timeout": "10s",
		"readiness": map[string]any{"log": "^ready$", "period": "50ms"}}
}

// ticker prints a numbered line every 100 ms; sleeper just sleeps (for stats).
func testConfig() map[string]any {
	return map[string]any{
		"programs": map[string]any{
			"seq_a": slowToStop("seq_a"),
			"seq_b": slowToStop("seq_b"),
			"ticker": map[string]any{
				"command":      []string{"/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"},
				"autostart":    false,
				"startsecs":    "200ms",
				"stop_timeout": "5s",
			},
			"sleeper": map[string]any{"command": []string{"sleep", "1000"}, "autostart": false, "startsecs": 0},
			// Exits at once, every time: a start ends FATAL.
			"quick": map[string]any{"command": []string{"sh", "-c", "exit 3"}, "autostart": false, "startsecs": "1s", "startretries": 1,
				"backoff": map[string]any{"initial": "10ms"}},
		},
		"tasks": map[string]any{"modules": []string{filepath.Join(repoRoot, "dist/examples/tasks/counter.js")}},
	}
}

func TestMain(m *testing.M) {
	// The binary re-run as another user for one connection case (connection_errors_test.go): no daemon.
	if os.Getenv(connectCaseEnv) != "" {
		os.Exit(connectCaseMain())
	}
	os.Exit(runWithDaemon(m))
}

func runWithDaemon(m *testing.M) int {
	entry := filepath.Join(repoRoot, "dist/server/daemon-entry.js")
	if _, err := os.Stat(entry); err != nil {
		fmt.Fprintf(os.Stderr, "%s is missing: build the daemon first (npm run build)\n", entry)
		return 1
	}
	home, err := os.MkdirTemp("", "corral-go-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	config, _ := json.Marshal(testConfig()) // JSON is YAML
	configPath := filepath.Join(home, "corral.yaml")
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		panic(err)
	}
	out, err := os.Create(filepath.Join(home, "daemon.out"))
	if err != nil {
		panic(err)
	}
	cmd := exec.Command("node", entry, "--home", home, "--config", configPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Only our own child, by its pid: SIGTERM stops its programs, SIGKILL if it hangs.
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("daemon did not exit within 10 s of SIGTERM")
		}
	}
	daemonHome, daemonSocket = home, corral.SocketPath(home)
	if err := waitForDaemon(exited); err != nil {
		_ = stop()
		logText, _ := os.ReadFile(out.Name())
		fmt.Fprintf(os.Stderr, "%v\n--- daemon output ---\n%s", err, logText)
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "daemon exit: %v\n", err)
		return 1
	}
	return code
}

func waitForDaemon(exited chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("daemon exited during startup: %v", err)
		default:
		}
		if _, err := os.Stat(daemonSocket); err == nil {
			c, err := corral.Dial(daemonSocket)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err = c.ProcessManager.GetServerInfo(ctx, &corralv1.GetServerInfoRequest{})
				cancel()
				c.Close()
				if err == nil {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("daemon did not answer on %s within 15 s", daemonSocket)
}

// dial connects a new client to the test daemon; it is closed when the test ends.
func dial(t *testing.T) *corral.Client {
	t.Helper()
	c, err := corral.Dial("unix://" + daemonSocket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ctxFor is a context that ends with the test (or after d).
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitFor(t *testing.T, timeout time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// extraDaemon is a second daemon one test starts (its own home, config and output file).
type extraDaemon struct {
	home    string
	outPath string
	info    *corralv1.GetServerInfoResponse
	// stop ends it by its pid (SIGTERM, SIGKILL after 10 s); also run at cleanup, idempotent.
	stop func()
}

// startExtraDaemon writes config (JSON is YAML) into home, runs the daemon there with args, and
// waits until it answers GetServerInfo on its socket.
func startExtraDaemon(t *testing.T, home string, config []byte, args ...string) *extraDaemon {
	t.Helper()
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(home, "corral.yaml")
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &extraDaemon{home: home, outPath: filepath.Join(home, "daemon.out")}
	out, err := os.Create(d.outPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{filepath.Join(repoRoot, "dist/server/daemon-entry.js"), "--home", home, "--config", configPath}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	d.stop = func() { // our own child only, by its pid
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		out.Close()
	}
	t.Cleanup(d.stop)
	socket := corral.SocketPath(home)
	deadline := time.Now().Add(15 * time.Second)
	for d.info == nil {
		select {
		case err := <-exited:
			text, _ := os.ReadFile(d.outPath)
			t.Fatalf("daemon exited during startup: %v\n%s", err, text)
		default:
		}
		if time.Now().After(deadline) {
			text, _ := os.ReadFile(d.outPath)
			t.Fatalf("daemon in %s did not answer within 15 s\n%s", home, text)
		}
		if c, err := corral.Dial("unix://" + socket); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			d.info, _ = c.ProcessManager.GetServerInfo(ctx, &corralv1.GetServerInfoRequest{})
			cancel()
			c.Close()
		}
		if d.info == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return d
}
