#!/usr/bin/env bash
# Builds the minimal OpenTelemetry Collector of scripts/otelcol-manifest.yaml into
# .tools/otelcol/otelcol-corral-test with the collector's builder (ocb), from the Go module proxy.
# Idempotent: a binary built from the same manifest is left alone. The first build compiles the
# collector's modules: about 20 minutes on 2 busy cores, a few on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BUILDER=v0.165.0
out="$root/.tools/otelcol"
stamp="$out/.manifest"
want="$BUILDER $(sha256sum scripts/otelcol-manifest.yaml | cut -d' ' -f1)"
if [[ -x "$out/otelcol-corral-test" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
  echo "build-otelcol: $out/otelcol-corral-test is up to date"
  exit 0
fi
mkdir -p "$out"
GOBIN="$out" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER"
# The manifest with this checkout's output path (the builder takes it only from the manifest).
sed "s|^dist:|dist:\n  output_path: $out/src|" scripts/otelcol-manifest.yaml >"$out/manifest.yaml"
"$out/builder" --config "$out/manifest.yaml"
cp "$out/src/otelcol-corral-test" "$out/otelcol-corral-test"
echo "$want" >"$stamp"
echo "build-otelcol: built $out/otelcol-corral-test"
