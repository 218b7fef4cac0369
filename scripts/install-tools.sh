#!/usr/bin/env bash
# Installs the code generators and test tools for the Python and Go clients into .tools/
# (gitignored), at pinned versions, from PyPI and the Go module proxy only. Idempotent: a tool
# already present at its pinned version is left alone, so a second run takes about a second.
#   .tools/venv  Python venv: grpcio-tools (protoc + grpc plugin), pytest, googleapis-common-protos,
#                mypy, corral-client (editable)
#   .tools/bin   protoc-gen-go, protoc-gen-go-grpc, grpcurl
# Needs python3 (>= 3.9, with venv) and go (>= 1.22) on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Pinned versions. Changing GRPCIO_TOOLS or the Go plugins changes generated code: run
# `npm run generate` afterwards and commit gen/.
GRPCIO_TOOLS=1.74.0
PYTEST=8.4.2
# google.rpc.Status and error details for the Python client; mypy for its --strict consumer check.
GOOGLEAPIS_COMMON_PROTOS=1.76.0
MYPY=2.4.1
TYPES_GRPCIO=1.85.0.20261028
TYPES_PROTOBUF=6.32.1.20260221
GOOGLEAPIS_STUBS=2.3.1
PROTOC_GEN_GO=v1.36.12
PROTOC_GEN_GO_GRPC=v1.6.2
GRPCURL=v1.9.4

tools="$root/.tools"
mkdir -p "$tools/bin"

# --- Python ---------------------------------------------------------------------------------
py_stamp="$tools/venv/.corral-tools"
py_want="grpcio-tools==$GRPCIO_TOOLS pytest==$PYTEST googleapis-common-protos==$GOOGLEAPIS_COMMON_PROTOS mypy==$MYPY types-grpcio==$TYPES_GRPCIO types-protobuf==$TYPES_PROTOBUF googleapis-common-protos-stubs==$GOOGLEAPIS_STUBS"
if [[ ! -x "$tools/venv/bin/python" || "$(cat "$py_stamp" 2>/dev/null)" != "$py_want" ]]; then
  echo "install-tools: python venv ($py_want)"
  rm -rf "$tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "grpcio-tools==$GRPCIO_TOOLS" "pytest==$PYTEST" "googleapis-common-protos==$GOOGLEAPIS_COMMON_PROTOS" "mypy==$MYPY" \
    "types-grpcio==$TYPES_GRPCIO" "types-protobuf==$TYPES_PROTOBUF" "googleapis-common-protos-stubs==$GOOGLEAPIS_STUBS"
  echo "$py_want" >"$py_stamp"
fi
# The client package itself, editable, so tests and examples import the working tree. Cheap
# when already installed (pip only re-checks the metadata).
# Reinstalled when it is missing or points at another folder (the package moved from gen/python),
# except in a checkout whose .tools is a symlink to another checkout's: repointing that shared
# venv would switch the other checkout's tests to this one. `npm test` puts this checkout's
# client/python/src first on PYTHONPATH anyway, so either way the tests import the code under test.
if [[ -L "$root/.tools" ]] && "$tools/venv/bin/python" -c "import corral_client" 2>/dev/null; then
  : # shared venv with the package installed: leave it pointing where it points
elif ! "$tools/venv/bin/python" -c "import corral_client, sys; sys.exit(not corral_client.__file__.startswith('$root/client/python/'))" 2>/dev/null; then
  echo "install-tools: pip install -e client/python"
  "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root/client/python"
fi

# --- Go -------------------------------------------------------------------------------------
go_install() { # name module version
  local name=$1 module=$2 version=$3 stamp="$tools/bin/.$1.version"
  if [[ -x "$tools/bin/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then return; fi
  echo "install-tools: go install $module@$version"
  local started=$SECONDS
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "$module@$version"
  echo "$version" >"$stamp"
  echo "install-tools: $name built in $((SECONDS - started)) s"
}
go_install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO"
go_install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC"
go_install grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL"

# Module dependencies of client/go (go.sum is committed), so `go test` needs no download later.
(cd "$root/client/go" && go mod download)

echo "install-tools: ok ($tools)"
