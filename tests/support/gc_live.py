"""The live GC dry run (``blobctl -a ADDRESS gc --dry-run --json``) against the same run on a copy.

:func:`live_vs_copy` asks the running daemon, stops it, copies its root, starts it again and
runs the offline dry run on the copy; :func:`differences` lists what disagrees beyond what a
live reading cannot know (docs/blobctl.md "Acting on the prediction"): snapshot bytes (the
daemon's ``Usage`` against ``du``) and an unleased ingest's expiry (``started_at`` + 24 h against
the ``expireat`` the daemon wrote a moment apart; within a second).  One more the API cannot
tell: an ingest opened under a lease that has since been deleted has no expiry (collected), but
live it looks like one opened outside a lease (24 h); :func:`differences` returns those apart,
as ``explained``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from store.timestamps import parse_rfc3339
from tests.support.containerd import ContainerdDaemon
from tests.support.gc_scenarios import REPO, predict

Row = dict


def live_rows(address: str, *extra: str) -> list[Row]:
    r = subprocess.run([sys.executable, "-m", "store", "-a", address, *extra, "gc", "--dry-run", "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError(f"blobctl -a gc --dry-run --json failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    if "live" not in r.stderr:
        raise AssertionError(f"the live dry run did not say it is live: {r.stderr!r}")
    return json.loads(r.stdout)


def live_vs_copy(d: ContainerdDaemon, copy: Path) -> tuple[list[Row], list[Row]]:
    live = live_rows(d.address)
    d.stop()
    subprocess.run(["cp", "-a", str(d.root), str(copy)], check=True)
    d.start()
    return live, predict(copy)


def _expiry(step: str) -> int:
    return parse_rfc3339(step.rsplit("(expires ", 1)[1].rstrip(")"))


def differences(live: list[Row], offline: list[Row], explained: list[str] | None = None) -> list[str]:
    lv = {(r["kind"], r["namespace"], r["id"]): r for r in live}
    by = {(r["kind"], r["namespace"], r["id"]): r for r in offline}
    out = [f"only live: {k}" for k in sorted(lv.keys() - by.keys())]
    out += [f"only offline: {k}" for k in sorted(by.keys() - lv.keys())]
    for k in sorted(lv.keys() & by.keys()):
        r, o = lv[k], by[k]
        if (r["collect"] != o["collect"] and k[0] == "ingest" and o["collect"] and explained is not None
                and r["why"] == [f"ingest {k[2]} (expires {r['why'][0].rsplit('(expires ', 1)[-1]}"]):
            explained.append(f"{k}: an ingest outside any lease, kept live for 24 h from its start; on disk it has "
                             "no expiry (opened under a lease since deleted), so the pass collects it")
            continue
        if r["collect"] != o["collect"]:
            out.append(f"{k}: live collect={r['collect']} why={r['why']}, offline collect={o['collect']} why={o['why']}")
            continue
        if k[0] in ("blob", "ingest", "lease") and r["bytes"] != o["bytes"]:
            out.append(f"{k}: live {r['bytes']} bytes, offline {o['bytes']}")
        if r["collect"]:
            continue
        if k[0] == "ingest" and r["why"][0].startswith(f"ingest {k[2]} (expires"):
            if not o["why"][0].startswith(f"ingest {k[2]} (expires") or \
                    abs(_expiry(r["why"][0]) - _expiry(o["why"][0])) >= 1_000_000_000:
                out.append(f"{k}: live root {r['why'][0]!r}, offline {o['why'][0]!r}")
        elif r["why"][0] != o["why"][0]:
            out.append(f"{k}: live root {r['why'][0]!r}, offline {o['why'][0]!r}")
    return out
