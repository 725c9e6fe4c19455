"""The image graph reuses what the media-type pass after a scan recognised: no blob is read
(or, with no usable cache, sniffed) twice per rescan."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter

from store import local as local_mod
from store import oci
from store import reader as reader_mod
from tests.gui.conftest import add_blob

MT_CONFIG = "application/vnd.oci.image.config.v1+json"


def test_graph_after_a_scan_sniffs_each_blob_once_without_a_cache(qtbot, make_window, store, monkeypatch):
    config = add_blob(store, json.dumps({"architecture": "amd64", "os": "linux",
                                         "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    text = add_blob(store, b"plain text\n")
    other = add_blob(store, b"\x00\x01\x02binary")
    # a cache that cannot be kept (every job gets a fresh in-memory one): only reuse avoids a re-sniff
    monkeypatch.setattr(oci.MediaTypeCache, "for_store", classmethod(lambda cls, _store: cls(None)))
    # every blob file the store opens to read it (read_each and reader_at share this opener)
    sniffed: Counter = Counter()
    lock = threading.Lock()
    real = reader_mod.open_blob

    def counting(path, extra_flags=0, *, dir_fd=None):
        with lock:
            sniffed["sha256:" + os.path.basename(os.fspath(path))] += 1
        return real(path, extra_flags, dir_fd=dir_fd)

    monkeypatch.setattr(reader_mod, "open_blob", counting)
    monkeypatch.setattr(local_mod, "open_blob", counting)
    win = make_window(store.root, wait=False)
    with qtbot.waitSignal(win.graphBuilt, timeout=30000):
        pass
    assert sniffed == Counter({str(config): 1, str(text): 1, str(other): 1})
    assert win.image_graph.known_types is None  # handed to the graph once, not kept
    assert win.image_graph.graph.blob_types()[config] == (MT_CONFIG, "config")
    assert win.blob_model.get(str(config)).media_type == MT_CONFIG


def test_build_graph_uses_known_types_and_the_cache_for_the_rest(store):
    from gui.images import graph_ops

    class Job:
        cancelled = False

        def progress(self, *_a):
            pass

    a = add_blob(store, b"first\n")
    b = add_blob(store, b"second\n")
    rows = [type("Row", (), {"digest": str(d), "size": n, "labels": {}})() for d, n in ((a, 6), (b, 7))]
    known = {a: oci.ContentType("text/x-known", oci.Kind.TEXT)}
    g = graph_ops.build_graph(store, rows, Job(), known)
    assert g.blob_types()[a] == ("text/x-known", "text")  # taken as given, not sniffed again
    assert g.blob_types()[b][1] == "text"                  # recognised the usual way
