"""store.gcpause.paused_gc (media types, the graph, a listing): a block that leaves a big result
is frozen out of the cyclic collector before it is enabled again (else its first passes walk it
all with the GIL held: 200 ms each at 100k blobs, a frozen window), a small one is not.

Checked in a fresh interpreter: the collector and its counts are process-wide, and threads left
by other tests (which may collect) would change them under the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import gc
from store import gcpause

before = gc.get_freeze_count()
assert gc.isenabled()
with gcpause.paused_gc():
    assert not gc.isenabled()
    small = [[i] for i in range(1000)]
assert gc.isenabled() and gc.get_freeze_count() == before, "a small result was frozen"
with gcpause.paused_gc():
    big = [[i] for i in range(gcpause.FREEZE_ABOVE + 10)]
assert gc.isenabled(), "the collector was not enabled again"
assert gc.get_freeze_count() >= before + gcpause.FREEZE_ABOVE, "a big result was not frozen"
gc.disable()
with gcpause.paused_gc():  # inside code that turned it off: it stays off
    pass
assert not gc.isenabled(), "the collector was enabled inside code that had turned it off"
del big  # refcounting still frees what was frozen
print("ok")
"""


def test_a_big_result_is_frozen_a_small_one_is_not_and_the_collector_comes_back():
    proc = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
