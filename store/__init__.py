"""Blobscope's content-store library: containerd's local content store, byte for byte.

Pure Python, no Qt.  The names exported here are a contract (design.md §3).
"""

from . import errors
from ._version import __version__
from .digest import Digest
from .local import LocalStore
from .types import Info, Status

__all__ = ["LocalStore", "Digest", "Info", "Status", "errors", "__version__"]
