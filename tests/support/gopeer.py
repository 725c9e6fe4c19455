"""Build and run ``tests/gopeer``: containerd's own ``content/local`` Go package as a peer.

``gopeer_binary()`` builds the program from Debian's packaged containerd source (GOPATH mode,
about 15 s the first time) when the binary is missing or older than its source, and returns
its path.  ``run_check(bin, root)`` returns containerd's view of a store directory.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)

GOPEER_DIR = Path(__file__).resolve().parents[1] / "gopeer"
BUILD_SCRIPT = GOPEER_DIR / "build.sh"
DEFAULT = "gopeer"          # Go 1.19 (bookworm): enough for correctness
FAST = "gopeer-go1.23"      # Go 1.23 (bookworm-backports): SHA-NI, the fair peer for hashing


def _stale(binary: Path) -> bool:
    if not binary.exists():
        return True
    return binary.stat().st_mtime < (GOPEER_DIR / "main.go").stat().st_mtime


def gopeer_binary(name: str = DEFAULT, *, backports: bool = False) -> Path:
    """Path of a built gopeer binary, building it first if it is missing or stale.

    Raises RuntimeError (with the build output) if the build fails, e.g. because
    ``golang-go`` or ``golang-github-containerd-containerd-dev`` cannot be installed.
    """
    binary = GOPEER_DIR / name
    if not _stale(binary):
        return binary
    with FileLock(str(Path("/tmp") / "blobscope-gopeer-build.lock")):
        if not _stale(binary):  # another test process built it meanwhile
            return binary
        env = dict(os.environ, GOPEER_BACKPORTS="1" if (backports or name == FAST) else "0")
        r = subprocess.run(["bash", str(BUILD_SCRIPT)], env=env, capture_output=True, text=True,
                           timeout=900)
        if r.returncode != 0 or not binary.exists():
            raise RuntimeError(
                f"building {name} with {BUILD_SCRIPT} failed (exit {r.returncode}):\n"
                f"{r.stdout}\n{r.stderr}")
    return binary


def run(binary: Path, *args, check: bool = True, timeout: float = 600,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run gopeer; ``env`` entries are added to the environment (e.g. ``TZ``)."""
    r = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **env) if env else None)
    if check and r.returncode != 0:
        raise RuntimeError(f"{binary.name} {' '.join(map(str, args))} failed "
                           f"(exit {r.returncode}): {r.stderr.strip()}")
    return r


def parse_kv(line: str) -> dict[str, str]:
    """One ``key=value ...`` line as printed by gopeer's benchmark operations."""
    out = {}
    for item in line.split():
        k, _, v = item.partition("=")
        out[k] = v
    return out


def run_check(binary: Path, root: os.PathLike | str) -> tuple[dict[str, dict], dict[str, dict]]:
    """containerd's view of ``root``: (blobs by digest, ingests by ref) from ``gopeer check``."""
    blobs, ingests = {}, {}
    for line in run(binary, "check", root).stdout.splitlines():
        rec = json.loads(line)
        if rec["op"] == "blob":
            blobs[rec["digest"]] = rec
        elif rec["op"] == "ingest":
            ingests[rec["ref"]] = rec
    return blobs, ingests
