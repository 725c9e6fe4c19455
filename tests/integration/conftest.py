"""Fixtures for tests that run against a real containerd daemon (Debian's package)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root first
    sys.path.insert(0, str(_REPO))

from tests.support.containerd import ContainerdDaemon  # noqa: E402


@pytest.fixture(scope="module")
def daemon(request, tmp_path_factory):
    """One private containerd daemon for a whole test module, stopped after its last test.

    A module sets ``DAEMON_CONFIG = "<toml>"`` to give the daemon extra configuration.
    """
    config = getattr(request.module, "DAEMON_CONFIG", "")
    with ContainerdDaemon(tmp_path_factory.mktemp("ctrd"), extra_config=config) as d:
        yield d
