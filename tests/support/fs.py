"""File-system facts tests compare modes against."""

from __future__ import annotations

import os


def umask() -> int:
    """The process's current umask (reading it means setting it, so it is set straight back)."""
    old = os.umask(0)
    os.umask(old)
    return old
