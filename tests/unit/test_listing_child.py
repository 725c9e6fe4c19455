"""``walk_batches(child=True)``: a child process lists the blobs; what arrives equals the in-process
listing, odd entries and all, and a child that cannot start or dies half-way leaves the listing
to this process without losing or repeating a blob."""

from __future__ import annotations

import hashlib
import logging
import os
import sys

import pytest

from store import Digest, LocalStore, errors
from store.blob_batches import ChildListing


def _fill(root, n: int, alg: str = "sha256", labelled=()) -> LocalStore:
    store = LocalStore(root)
    d = root / "blobs" / alg
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        data = f"blob {alg} {i}".encode() * (1 + i % 5)
        (d / hashlib.new(alg, data).hexdigest()).write_bytes(data)
        if i in labelled:
            store.labels.set(Digest(f"{alg}:" + hashlib.new(alg, data).hexdigest()), {"index": str(i), "k": "v"})
    return store


def _odd_store(root) -> LocalStore:
    store = _fill(root, 1200, labelled=range(0, 1200, 31))
    _fill(root, 30, alg="sha512", labelled=[3, 4])
    d = root / "blobs" / "sha256"
    (d / "not-a-digest").write_bytes(b"x")
    (d / ("A" * 64)).write_bytes(b"upper case")
    (d / ("b" * 63)).write_bytes(b"short")
    os.mkdir(d / ("0" * 64))
    os.symlink(sorted(os.listdir(d))[0], d / ("1" * 64))
    os.mkfifo(d / ("2" * 64))
    (root / "blobs" / "md5").mkdir()  # not an algorithm: never listed
    store.labels.set(Digest("sha256:" + "3" * 64), {"labels": "of a blob that is not there"})
    return store


def _rows(batches) -> list[tuple]:
    out = []
    for b in batches:
        for info in b:
            out.append((str(info.digest), info.size, info.created_ns, info.updated_ns, info.labels))
    return out


def test_the_child_lists_exactly_what_the_process_lists(tmp_path):
    store = _odd_store(tmp_path / "s")
    listing = store.walk_batches(first=10, size=100, child=True)
    assert isinstance(listing, ChildListing)
    batches = list(listing)
    assert listing.fell_back is None and all(b.raw and not b.names for b in batches)
    assert len(batches[0]) == 10 and max(len(b) for b in batches) == 100
    got = _rows(batches)
    assert len(got) == 1230 and len({g[0] for g in got}) == 1230
    assert sorted(got) == sorted(_rows(store.walk_batches(first=10, size=100)))
    assert sorted(got) == [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk()]
    assert sum(1 for g in got if g[4]) == len(range(0, 1200, 31)) + 2


def test_a_child_that_cannot_start_leaves_the_listing_to_this_process(tmp_path, caplog):
    store = _fill(tmp_path / "s", 300, labelled=[5])
    listing = ChildListing(store.blobs_root, store.labels.all(), first=10, size=50,
                           python=str(tmp_path / "no-such-python"))
    with caplog.at_level(logging.WARNING, logger="store.blob_batches"):
        got = _rows(listing)
    assert listing.fell_back and "did not start" in listing.fell_back
    assert "listing it in this process" in caplog.text
    assert sorted(got) == [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk()]


def test_a_frozen_bundle_lists_in_this_process_without_a_warning(tmp_path, caplog, monkeypatch):
    """The .deb's frozen app has no interpreter for the child: expected every time, so no warning."""
    store = _fill(tmp_path / "s", 300, labelled=[5])
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    listing = ChildListing(store.blobs_root, store.labels.all(), first=10, size=50,
                           python=str(tmp_path / "never-run"))
    with caplog.at_level(logging.INFO, logger="store.blob_batches"):
        got = _rows(listing)
    assert listing.proc is None and listing.fell_back and "frozen" in listing.fell_back
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert sorted(got) == [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk()]


def test_a_child_whose_output_stops_half_way_loses_and_repeats_nothing(tmp_path, caplog):
    store = _fill(tmp_path / "s", 600, labelled=range(0, 600, 23))
    # the real child, its output cut after 3000 bytes (mid-frame, a few batches in) by a real pipe
    cut = tmp_path / "cut-python"
    cut.write_text(f'#!/bin/sh\n"{sys.executable}" "$@" | head -c 3000\n')
    cut.chmod(0o755)
    listing = ChildListing(store.blobs_root, store.labels.all(), first=5, size=20, python=str(cut))
    with caplog.at_level(logging.WARNING, logger="store.blob_batches"):
        got = _rows(listing)
    assert listing.fell_back and "before the end" in listing.fell_back
    assert "listing the rest in this process" in caplog.text
    assert len(got) == 600 and len({g[0] for g in got}) == 600
    assert sorted(got) == [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk()]


def test_closing_the_listing_stops_its_child(tmp_path):
    store = _fill(tmp_path / "s", 300)
    listing = store.walk_batches(first=5, size=5, child=True)
    assert isinstance(listing, ChildListing)
    next(listing)
    proc = listing.proc
    assert proc is not None
    listing.close()
    assert listing.proc is None and proc.returncode is not None


def test_an_unlistable_blobs_directory_is_an_error_as_in_process(tmp_path):
    store = _fill(tmp_path / "s", 3)
    blobs = store.blobs_root
    os.rename(blobs, tmp_path / "elsewhere")
    blobs.write_bytes(b"a file where the directory was")
    with pytest.raises(errors.Unknown) as in_process:
        list(store.walk_batches())
    with pytest.raises(errors.Unknown) as in_child:
        list(store.walk_batches(child=True))
    assert str(in_child.value) == str(in_process.value) and "not a directory" in str(in_child.value).lower()


@pytest.mark.slow  # 40 000 files: about 20 s on a busy VM
def test_a_big_directory_is_listed_by_the_child_and_its_stat_child_alike(tmp_path):
    """Past ``forked_stat.FORK_MIN`` names the listing child forks a stat child for the later half
    (listing_child.rest_columns): the same blobs, labels and times as ``walk``, nothing repeated,
    no fall-back to this process."""
    from store import forked_stat
    n = forked_stat.FORK_MIN * 2 + 700
    store = LocalStore(tmp_path / "s")
    d = tmp_path / "s" / "blobs" / "sha256"
    d.mkdir(parents=True)
    for i in range(n):
        data = b"%d" % i
        hexd = hashlib.sha256(data).hexdigest()
        fd = os.open(d / hexd, os.O_WRONLY | os.O_CREAT, 0o444)
        os.write(fd, data)
        os.close(fd)
        os.utime(d / hexd, ns=(1_700_000_000_000_000_000 + i, 1_600_000_000_000_000_000 + 3 * i))
        if i % 997 == 0:
            store.labels.set(Digest("sha256:" + hexd), {"i": str(i)})
    (d / "not-a-digest").write_bytes(b"x")
    os.mkdir(d / ("0" * 64))
    listing = store.walk_batches(first=500, size=5000, child=True)
    got = _rows(listing)
    assert listing.fell_back is None
    assert len(got) == len({g[0] for g in got}) == n
    assert sorted(got) == [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk()]
