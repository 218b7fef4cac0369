"""Generated from proto/corral/v1 by scripts/protoc-gen-corral-python.py: do not edit."""
