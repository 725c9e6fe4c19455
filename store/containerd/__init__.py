"""containerd as a content source: the daemon's gRPC content service, and offline roots read from meta.db."""

from ._rpc import TLSConfig
from .client import AUTO, GC_ROOT, ContainerdStore

__all__ = ["ContainerdStore", "TLSConfig", "AUTO", "GC_ROOT"]
