"""Where Blobscope's own store lives when nobody names one (the GUI and ``blobctl`` share it)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "BLOBSCOPE_ROOT"


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset, empty or relative (XDG rule)."""
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
