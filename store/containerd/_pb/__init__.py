"""Generated gRPC stubs for containerd's content, leases and namespaces services (do not edit; see ../_codegen.py)."""
