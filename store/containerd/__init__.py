"""containerd as a content source: the daemon's gRPC content service, and offline roots read from meta.db."""

from ._rpc import TLSConfig, is_unreachable, validate_namespace
from .client import AUTO, GC_ROOT, ContainerdStore
from .offline import OfflineContainerdRoot, OfflineNamespaceStore

__all__ = ["ContainerdStore", "OfflineContainerdRoot", "OfflineNamespaceStore", "TLSConfig", "AUTO", "GC_ROOT", "is_unreachable",
           "validate_namespace"]
