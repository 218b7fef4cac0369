package corral_test

// The Prometheus endpoint (metrics.listen) of a second real daemon, scraped over HTTP and parsed
// with the official Prometheus text parser (github.com/prometheus/common/expfmt), strict legacy
// metric names: what a real Prometheus server would accept.

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
)

var metricsURLLine = regexp.MustCompile(`corral metrics on (http://\S+)`)

// startMetricsDaemon runs a daemon with metrics on 127.0.0.1:0 (port chosen by the daemon, read
// from its "corral metrics on URL" line), a running program and the example task types.
func startMetricsDaemon(t *testing.T) (url string, c *corral.Client) {
	t.Helper()
	home := t.TempDir()
	config, _ := json.Marshal(map[string]any{
		"metrics": map[string]any{"listen": "127.0.0.1:0"},
		"programs": map[string]any{
			"web":  map[string]any{"command": []string{"sleep", "600"}, "startsecs": 0, "stop_timeout": "2s"},
			"idle": map[string]any{"command": []string{"sleep", "600"}, "autostart": false},
		},
		"tasks": map[string]any{"modules": []string{filepath.Join(repoRoot, "dist/examples/tasks/counter.js")}},
	})
	d := startExtraDaemon(t, home, config)
	// The URL line is printed once the daemon is up, just after its socket starts answering.
	waitFor(t, 15*time.Second, "the metrics url in the daemon's output", func() bool {
		text, _ := os.ReadFile(d.outPath)
		if m := metricsURLLine.FindSubmatch(text); m != nil {
			url = string(m[1])
		}
		return url != ""
	})
	var err error
	c, err = corral.Dial("unix://" + corral.SocketPath(home))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return url, c
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	response, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, response.Status)
	}
	if ct := response.Header.Get("Content-Type"); expfmt.ResponseFormat(response.Header).FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("Content-Type %q is not the Prometheus text format", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(response.Body)
	if err != nil {
		t.Fatalf("the Prometheus text parser rejects /metrics: %v", err)
	}
	return families
}

func labelsOf(m *dto.Metric) map[string]string {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	return labels
}

func TestMetricsEndpointParsesWithThePrometheusTextParser(t *testing.T) {
	url, c := startMetricsDaemon(t)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("metrics url %q is not loopback /metrics", url)
	}
	ctx := ctxFor(t, 30*time.Second)
	waitFor(t, 10*time.Second, "web running", func() bool {
		r, err := c.ProcessManager.GetProcess(ctx, &corralv1.GetProcessRequest{Name: "web"})
		return err == nil && r.GetProcess().GetRun().GetPid() != 0
	})
	if _, err := c.TaskRunner.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: "metrics-counter", Type: "example_counter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TaskRunner.StartTask(ctx, &corralv1.StartTaskRequest{Name: "metrics-counter"}); err != nil {
		t.Fatal(err)
	}
	defer c.TaskRunner.StopTask(ctxFor(t, 10*time.Second), &corralv1.StopTaskRequest{Name: "metrics-counter"})

	families := scrape(t, url)

	// Conventions for every family: corral_ prefix (or the standard grpc_server_, process_ and
	// nodejs_ families), a declared type, counters end in _total.
	for name, f := range families {
		if !strings.HasPrefix(name, "corral_") && !strings.HasPrefix(name, "grpc_server_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "nodejs_") {
			t.Errorf("%s: not prefixed corral_ (nor grpc_server_, process_, nodejs_)", name)
		}
		if f.GetType() == dto.MetricType_UNTYPED {
			t.Errorf("%s: no # TYPE", name)
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
		if f.GetType() != dto.MetricType_COUNTER && strings.HasSuffix(name, "_total") {
			t.Errorf("%s ends in _total but is a %v", name, f.GetType())
		}
		if f.GetHelp() == "" {
			t.Errorf("%s: no # HELP", name)
		}
	}

	want := map[string]dto.MetricType{
		"corral_program_up":                   dto.MetricType_GAUGE,
		"corral_program_state":                dto.MetricType_GAUGE,
		"corral_program_cpu_seconds_total":    dto.MetricType_COUNTER,
		"corral_task_state":                   dto.MetricType_GAUGE,
		"corral_task_signals_published_total": dto.MetricType_COUNTER,
		"grpc_server_handled_total":           dto.MetricType_COUNTER,
		"grpc_server_handling_seconds":        dto.MetricType_HISTOGRAM,
		"corral_program_info":                 dto.MetricType_GAUGE,
		"corral_build_info":                   dto.MetricType_GAUGE,
		"process_resident_memory_bytes":       dto.MetricType_GAUGE,
	}
	for name, typ := range want {
		f, ok := families[name]
		if !ok {
			t.Errorf("family %s is missing", name)
		} else if f.GetType() != typ {
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	up := map[string]float64{}
	for _, m := range families["corral_program_up"].GetMetric() {
		up[labelsOf(m)["program"]] = m.GetGauge().GetValue()
	}
	if up["web"] != 1 || up["idle"] != 0 {
		t.Errorf("corral_program_up: %v, want web=1 idle=0", up)
	}

	running := false
	for _, m := range families["corral_task_state"].GetMetric() {
		l := labelsOf(m)
		if l["task"] == "metrics-counter" && l["type"] == "example_counter" && m.GetGauge().GetValue() == 1 {
			running = strings.EqualFold(l["state"], "running")
		}
	}
	if !running {
		t.Errorf("corral_task_state has no running series for metrics-counter")
	}

	// The calls made above were counted, by service, method, type and code (go-grpc-prometheus's labels).
	handled := map[string]float64{}
	for _, m := range families["grpc_server_handled_total"].GetMetric() {
		l := labelsOf(m)
		if l["grpc_service"] == "" || l["grpc_method"] == "" || l["grpc_type"] == "" || l["grpc_code"] == "" {
			t.Errorf("grpc_server_handled_total series without grpc_service/grpc_method/grpc_type/grpc_code: %v", l)
		}
		handled[l["grpc_service"]+"/"+l["grpc_method"]+" "+l["grpc_type"]+" "+l["grpc_code"]] += m.GetCounter().GetValue()
	}
	if handled["corral.v1.TaskRunner/CreateTask unary OK"] < 1 {
		t.Errorf("CreateTask OK not counted: %v", handled)
	}

	// The histogram: one series per method, cumulative buckets ending in +Inf == count, a sum.
	series := families["grpc_server_handling_seconds"].GetMetric()
	if len(series) == 0 {
		t.Fatal("grpc_server_handling_seconds has no series")
	}
	methods := map[string]bool{}
	for _, m := range series {
		method := labelsOf(m)["grpc_service"] + "/" + labelsOf(m)["grpc_method"]
		if method == "" || methods[method] {
			t.Errorf("histogram series with a missing or repeated method label: %q", method)
		}
		methods[method] = true
		h := m.GetHistogram()
		if h == nil || len(h.GetBucket()) < 2 {
			t.Errorf("%s: no histogram buckets", method)
			continue
		}
		if h.GetSampleCount() < 1 || h.GetSampleSum() < 0 {
			t.Errorf("%s: count %d sum %g", method, h.GetSampleCount(), h.GetSampleSum())
		}
		previousBound, previousCount := -1.0, uint64(0)
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() <= previousBound || b.GetCumulativeCount() < previousCount {
				t.Errorf("%s: buckets not increasing at le=%g", method, b.GetUpperBound())
			}
			previousBound, previousCount = b.GetUpperBound(), b.GetCumulativeCount()
		}
		if math.IsInf(previousBound, +1) && previousCount != h.GetSampleCount() {
			t.Errorf("%s: le=+Inf bucket %d != count %d", method, previousCount, h.GetSampleCount())
		}
		if previousCount > h.GetSampleCount() {
			t.Errorf("%s: last finite bucket %d > count %d", method, previousCount, h.GetSampleCount())
		}
	}
	if !methods["corral.v1.TaskRunner/CreateTask"] {
		t.Errorf("no latency histogram for CreateTask: %v", methods)
	}
}
