"""``blobctl ls`` streams: a big store is printed as it is walked, holding no list of its blobs
(tracemalloc's peak per blob, against what building the listing first took)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc

import pytest

from store import cli

N = 40_000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    """``N`` tiny blobs written straight into containerd's layout (blobs/sha256/<hex>, 0444)."""
    root = tmp_path_factory.mktemp("big") / "content"
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for i in range(N):
        data = b"%d" % i
        path = blobs / hashlib.sha256(data).hexdigest()
        path.write_bytes(data)
        os.chmod(path, 0o444)
    return root


class Sink:
    """Standard output that keeps nothing: counts what was printed."""

    def __init__(self):
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)

    def flush(self) -> None:
        pass


def run(monkeypatch, root, *argv, out) -> int:
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    try:
        return cli.main(["--root", str(root), "ls", *argv])
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("argv", [(), ("--json",)])
def test_ls_streams_a_big_store_in_bounded_memory(monkeypatch, big_store, argv):
    text = io.StringIO()
    assert run(monkeypatch, big_store, *argv, out=text) == 0
    if argv:
        doc = json.loads(text.getvalue())
        assert len(doc) == N and doc == sorted(doc, key=lambda e: e["digest"])
    else:
        lines = text.getvalue().splitlines()
        assert len(lines) == N + 1 and lines[0].startswith("DIGEST")
        assert {line.index(" ") for line in lines[1:]} == {71}  # one alignment, past the first rows too
    printed = len(text.getvalue())
    del text

    sink = Sink()
    tracemalloc.start()
    try:
        rc = run(monkeypatch, big_store, *argv, out=sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rc == 0 and sink.chars == printed
    # only the sorted directory listing (a name per blob, ~120 B) grows with the store; building
    # the rows first (as ls did) peaked at ~500 B a blob for the table and ~1 KB for --json
    assert peak / N < 250, (peak, printed)
