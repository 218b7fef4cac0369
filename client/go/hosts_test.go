package corral_test

// corral.Hosts against two real daemons on 127.0.0.2 and 127.0.0.3 (one config, each daemon
// named with --host-name): programs go to the daemon that owns them, ListProcesses fans out,
// and a stopped daemon is an unreachable host while the other still acts.

import (
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func freeAddress(t *testing.T, host string) string {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startHostDaemon runs a daemon with this config and host name; stop() ends it by its pid.
func startHostDaemon(t *testing.T, config []byte, hostName string) (stop func()) {
	t.Helper()
	return startExtraDaemon(t, t.TempDir(), config, "--host-name", hostName).stop
}

func TestHostsRoutesProgramsAndReportsAnUnreachableHost(t *testing.T) {
	addresses := map[string]string{"lab1": freeAddress(t, "127.0.0.2"), "lab2": freeAddress(t, "127.0.0.3")}
	sleeper := map[string]any{"command": []string{"sleep", "300"}, "startsecs": 0, "stop_timeout": "2s"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range sleeper {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	config, _ := json.Marshal(map[string]any{
		// Plain loopback TCP is read-only without server.auth (secure by default): say auth: none.
		"server":   map[string]any{"auth": "none"},
		"hosts":    map[string]any{"lab1": map[string]any{"address": addresses["lab1"]}, "lab2": map[string]any{"address": addresses["lab2"]}},
		"programs": map[string]any{"a1": with(map[string]any{"host": "lab1"}), "b1": with(map[string]any{"host": "lab2", "autostart": false})},
	})
	startHostDaemon(t, config, "lab1")
	stopB := startHostDaemon(t, config, "lab2")

	hosts := corral.NewHosts(map[string]corral.Host{"lab1": {Address: addresses["lab1"]}, "lab2": {Address: addresses["lab2"]}})
	hosts.Deadline = 3 * time.Second
	defer hosts.Close()
	ctx := ctxFor(t, 60*time.Second)

	for program, want := range map[string]string{"a1": "lab1", "b1": "lab2"} {
		if got, err := hosts.Owner(ctx, program); err != nil || got != want {
			t.Fatalf("Owner(%s) = %q, %v; want %q", program, got, err, want)
		}
	}
	if _, err := hosts.Owner(ctx, "nope"); status.Code(err) != codes.NotFound {
		t.Fatalf("Owner(nope): %v, want NotFound", err)
	}
	err := hosts.OnOwner(ctx, "b1", func(c *corral.Client) error {
		resp, err := c.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "b1", Wait: corralv1.StartWait_START_WAIT_RUNNING})
		if err == nil && resp.GetProcess().GetState() != corralv1.ProcessState_PROCESS_STATE_RUNNING {
			t.Errorf("b1 is %v after start", resp.GetProcess().GetState())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	processes, failed := hosts.ListProcesses(ctx)
	if len(failed) != 0 || len(processes["lab1"]) != 1 || processes["lab1"][0].GetName() != "a1" || len(processes["lab2"]) != 1 || processes["lab2"][0].GetName() != "b1" {
		t.Fatalf("ListProcesses = %v, failed %v", processes, failed)
	}
	if processes["lab2"][0].GetHost() != "lab2" {
		t.Fatalf("b1's host = %q", processes["lab2"][0].GetHost())
	}

	stopB()
	began := time.Now()
	processes, failed = hosts.ListProcesses(ctx)
	if time.Since(began) > 15*time.Second {
		t.Fatalf("ListProcesses took %v with lab2 down", time.Since(began))
	}
	var unreachable *corral.HostUnreachableError
	if !errors.As(failed["lab2"], &unreachable) || !strings.HasPrefix(failed["lab2"].Error(), "host lab2 unreachable: ") {
		t.Fatalf("lab2's error = %v, want a HostUnreachableError", failed["lab2"])
	}
	if len(processes["lab1"]) != 1 || processes["lab1"][0].GetName() != "a1" {
		t.Fatalf("lab1 still answers: %v", processes)
	}
	err = hosts.OnOwner(ctx, "b1", func(c *corral.Client) error {
		_, err := c.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: "b1"})
		return err
	})
	if !errors.As(err, &unreachable) {
		t.Fatalf("stop b1 with lab2 down: %v, want a HostUnreachableError", err)
	}
	if err := hosts.OnOwner(ctx, "a1", func(c *corral.Client) error {
		_, err := c.ProcessManager.RestartProcess(ctx, &corralv1.RestartProcessRequest{Name: "a1", Wait: corralv1.StartWait_START_WAIT_RUNNING})
		return err
	}); err != nil {
		t.Fatalf("restart a1 on lab1: %v", err)
	}
}
