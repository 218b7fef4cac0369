#!/usr/bin/env python3
"""A local buf plugin: Python messages, .pyi stubs and grpc stubs for corral.v1, made by
grpcio-tools' bundled protoc (run from the venv that scripts/install-tools.sh makes).

buf hands us a CodeGeneratorRequest; we pass its descriptors to grpc_tools.protoc as a
descriptor set, then move the output under the `corral_client.v1` package (so the package
has one top-level name) by rewriting the generated imports. Output is deterministic, so the
drift check can compare it byte for byte.
"""
import os
import re
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc

PROTO_DIR = "corral/v1/"
PACKAGE = "corral_client.v1"

# Only import lines and the module name given to the descriptor builder are rewritten; the
# serialized descriptors keep the proto package `corral.v1` (that is the wire contract).
IMPORT_RE = re.compile(r"^(\s*)from corral\.v1 import ", re.M)
BUILDER_RE = re.compile(r"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, )'corral\.v1\.")

INIT = '"""Generated from proto/corral/v1 by scripts/protoc-gen-corral-python.py: do not edit."""\n'


def rewrite(text: str) -> str:
    text = IMPORT_RE.sub(lambda m: f"{m.group(1)}from {PACKAGE} import ", text)
    return BUILDER_RE.sub(lambda m: f"{m.group(1)}'{PACKAGE}.", text)


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    with tempfile.TemporaryDirectory(prefix="corral-pygen-") as tmp:
        descriptor_set = descriptor_pb2.FileDescriptorSet()
        descriptor_set.file.extend(request.proto_file)
        set_path = os.path.join(tmp, "input.binpb")
        with open(set_path, "wb") as f:
            f.write(descriptor_set.SerializeToString())
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        code = protoc.main(
            [
                "protoc",
                f"--descriptor_set_in={set_path}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                *request.file_to_generate,
            ]
        )
        if code != 0:
            response.error = f"grpc_tools.protoc exited with {code}"
        else:
            files = {}
            for directory, _, names in os.walk(out):
                for name in names:
                    path = os.path.join(directory, name)
                    rel = os.path.relpath(path, out).replace(os.sep, "/")
                    if not rel.startswith(PROTO_DIR):
                        response.error = f"unexpected output {rel} (only {PROTO_DIR} is packaged)"
                        break
                    with open(path, encoding="utf-8") as f:
                        files[rel[len(PROTO_DIR):]] = rewrite(f.read())
            files["__init__.py"] = INIT
            for name in sorted(files):
                response.file.add(name=name, content=files[name])
    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
