"""Where Blobscope's own store lives when nobody names one (the GUI and ``blobctl`` share it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT_ENV = "BLOBSCOPE_ROOT"


def data_home() -> Path:
    """The user's data directory, where Qt's GenericDataLocation points too.

    Linux and other Unix: ``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset, empty
    or relative (XDG rule); Windows: ``%LOCALAPPDATA%``; macOS: ``~/Library/Application Support``.
    """
    if sys.platform == "win32":
        value = os.environ.get("LOCALAPPDATA", "")
        return Path(value) if value else Path.home() / "AppData" / "Local"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def default_store_dir() -> Path:
    """``$BLOBSCOPE_ROOT`` when set, else ``<data home>/blobscope/store``."""
    value = os.environ.get(ROOT_ENV, "")
    if value:
        return Path(value).expanduser()
    return data_home() / "blobscope" / "store"
