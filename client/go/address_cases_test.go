// The address rules as one table (test/fixtures/address-cases.json), shared with the daemon's,
// the TypeScript client's and the Python client's tests.
package corral_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corral-dev/corral/client/go"
)

type addressCase struct {
	Why     string            `json:"why"`
	Address string            `json:"address"`
	Env     map[string]string `json:"env"`
	Target  string            `json:"target"`
}

func TestResolveAddressFollowsTheSharedTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "test/fixtures/address-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Resolve []addressCase `json:"resolve"`
	}
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Resolve) < 10 {
		t.Fatalf("only %d cases", len(table.Resolve))
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range table.Resolve {
		t.Run(c.Why, func(t *testing.T) {
			for _, name := range []string{"CORRAL_ADDRESS", "CORRAL_HOME"} {
				t.Setenv(name, c.Env[name]) // restored after the subtest
				if _, set := c.Env[name]; !set {
					os.Unsetenv(name)
				}
			}
			want := strings.ReplaceAll(c.Target, "{cwd}", cwd)
			if got := corral.ResolveAddress(c.Address); got != want {
				t.Errorf("ResolveAddress(%q) with %v = %q, want %q", c.Address, c.Env, got, want)
			}
		})
	}
}
