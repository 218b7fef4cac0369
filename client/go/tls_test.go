package corral_test

// The Go client over TLS with a bearer token (and a client certificate) against a second real
// daemon whose certificates come from the repository's test PKI helper (openssl).

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type certFiles struct{ Cert, Key string }

type testPki struct {
	CA     string
	Server certFiles
	Alice  certFiles
}

// securedDaemon starts a daemon with a TLS listener on 127.0.0.1, an operator token and a
// client-certificate mapping, and returns its TCP address, the PKI and the token file.
func securedDaemon(t *testing.T) (tcp string, pki testPki, tokenFile string) {
	t.Helper()
	work := t.TempDir()
	out, err := exec.Command("node", filepath.Join(repoRoot, "dist/test/helpers/make-test-pki.js"), work).Output()
	if err != nil {
		t.Fatalf("make-test-pki: %v", err)
	}
	var raw struct {
		CA     string `json:"ca"`
		Server struct{ Cert, Key string }
		Alice  struct{ Cert, Key string }
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	pki = testPki{CA: raw.CA, Server: certFiles(raw.Server), Alice: certFiles(raw.Alice)}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	tokenFile = filepath.Join(work, "operator.token")
	if err := os.WriteFile(tokenFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config, _ := json.Marshal(map[string]any{
		"server": map[string]any{
			"listen": []string{"127.0.0.1:0"},
			"tls":    map[string]any{"cert": pki.Server.Cert, "key": pki.Server.Key, "client_ca": pki.CA, "require_client_cert": false},
			"auth": map[string]any{
				"tokens":  []any{map[string]any{"name": "go-operator", "file": tokenFile, "role": "operator"}},
				"clients": []any{map[string]any{"subject": "CN=alice", "role": "viewer"}},
			},
		},
		"programs": map[string]any{"sleeper": map[string]any{"command": []string{"sleep", "300"}, "startsecs": 0}},
	})
	d := startExtraDaemon(t, filepath.Join(work, "home"), config)
	for _, address := range d.info.Listen {
		if strings.HasPrefix(address, "127.0.0.1:") {
			return address, pki, tokenFile
		}
	}
	t.Fatalf("no TCP listener in %v", d.info.Listen)
	return
}

func TestConnectsOverTLSWithAToken(t *testing.T) {
	tcp, pki, tokenFile := securedDaemon(t)
	ctx := ctxFor(t, 30*time.Second)

	operator, err := corral.DialWith(tcp, corral.Options{TLS: &corral.TLSOptions{CA: pki.CA}, TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	defer operator.Close()
	if _, err := operator.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: "sleeper"}); err != nil {
		t.Fatalf("operator stop: %v", err)
	}
	if _, err := operator.ProcessManager.StartProcess(ctx, &corralv1.StartProcessRequest{Name: "sleeper"}); err != nil {
		t.Fatalf("operator start: %v", err)
	}
	if _, err := operator.ProcessManager.Shutdown(ctx, &corralv1.ShutdownRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("operator shutdown: want PERMISSION_DENIED, got %v", err)
	}

	anonymous, err := corral.DialWith(tcp, corral.Options{TLS: &corral.TLSOptions{CA: pki.CA}})
	if err != nil {
		t.Fatal(err)
	}
	defer anonymous.Close()
	if _, err := anonymous.ProcessManager.GetServerInfo(ctx, &corralv1.GetServerInfoRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: want UNAUTHENTICATED, got %v", err)
	}

	alice, err := corral.DialWith(tcp, corral.Options{TLS: &corral.TLSOptions{CA: pki.CA, Cert: pki.Alice.Cert, Key: pki.Alice.Key}})
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	if _, err := alice.ProcessManager.GetProcess(ctx, &corralv1.GetProcessRequest{Name: "sleeper"}); err != nil {
		t.Fatalf("alice (viewer by certificate) reads: %v", err)
	}
	if _, err := alice.ProcessManager.StopProcess(ctx, &corralv1.StopProcessRequest{Name: "sleeper"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("alice stops: want PERMISSION_DENIED, got %v", err)
	}
}
