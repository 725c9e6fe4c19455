"""Regenerate the gRPC stubs in ``_pb/`` from the ``.proto`` files in ``proto/``.

The stubs are committed so users never need grpcio-tools; a test regenerates them
into a temp dir and fails on any difference.  Run after editing a .proto:

    .venv/bin/python store/containerd/_codegen.py

The proto directory is mapped to the virtual path ``store/containerd/_pb`` so the
generated ``_pb2_grpc`` modules import ``store.containerd._pb.<name>_pb2`` instead
of a top-level ``containerd`` package that could clash with other installs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROTO_DIR = PACKAGE_DIR / "proto"
VIRTUAL = "store/containerd/_pb"
PROTOS = ("content.proto", "leases.proto", "namespaces.proto", "snapshots.proto", "images.proto", "containers.proto",
          "introspection.proto", "events.proto")


def generate(out_root: Path) -> list[Path]:
    """Write the stubs under ``out_root/store/containerd/_pb`` and return their paths."""
    from grpc_tools import protoc  # build-time only; users never import this module

    wellknown = Path(protoc.__file__).resolve().parent / "_proto"
    out_root = Path(out_root)
    (out_root / VIRTUAL).mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{VIRTUAL}={PROTO_DIR}",
        f"-I{wellknown}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(f"{VIRTUAL}/{name}" for name in PROTOS),
    ]
    rc = protoc.main(args)
    if rc != 0:
        raise RuntimeError(f"protoc failed with exit status {rc} on {', '.join(PROTOS)}")
    return sorted(p for p in (out_root / VIRTUAL).iterdir() if p.name != "__init__.py")


def main() -> int:
    # The repo root is three levels up: <root>/store/containerd/_codegen.py
    written = generate(PACKAGE_DIR.parent.parent)
    for path in written:
        print(os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
