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


def test_a_big_store_s_graph_is_copied_once_built_and_answers_the_same(qtbot, make_window, store, monkeypatch):
    """Above COPY_ABOVE blobs the window's graph is written out and read back once built (its
    objects together in memory, store/graph_copy.py): the window's graph answers as before, the
    media types handed to the build are taken out of the list they came in, and an update of the
    copy works."""
    from gui.images import graph_ops
    from store import graph as G
    from store import graph_copy

    config = add_blob(store, json.dumps({"architecture": "amd64", "os": "linux",
                                         "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    loose = [add_blob(store, b"loose %d\n" % i) for i in range(5)]
    copies: list = []
    real = graph_copy.from_bytes
    monkeypatch.setattr(graph_ops, "COPY_ABOVE", 0)
    monkeypatch.setattr(graph_copy, "from_bytes", lambda data, cancel=None: copies.append(1) or real(data, cancel))
    win = make_window(store.root, wait=False)
    with qtbot.waitSignal(win.graphBuilt, timeout=30000):
        pass
    g = win.image_graph.graph
    assert copies and g.facts is not None
    whole = G.load_graph(store, oci.MediaTypeCache(None))
    assert g.blob_types() == whole.blob_types() and g.reclaimable() == whole.reclaimable()
    assert g.space() == whole.space() and set(g.sizes.plain) >= set(loose)
    assert g.blob_types()[config] == (MT_CONFIG, "config")
    handed = [{config: oci.ContentType(MT_CONFIG, oci.Kind.CONFIG)}]

    class Job:
        cancelled = False

        def progress(self, *_a):
            pass

    rows = [type("Row", (), {"digest": str(i.digest), "size": i.size, "labels": {}})() for i in store.walk()]
    built = graph_ops.build_graph(store, rows, Job(), handed)
    assert handed == [] and built.blob_types() == whole.blob_types()
    gone = loose[0]
    store.delete(gone)
    after = g.updated(store, None, [], [str(gone)])
    assert gone not in after.sizes and after.reclaimable() == G.load_graph(store, None).reclaimable()


def test_media_type_pass_sends_each_blob_once_with_what_its_manifest_declares(store):
    """Every blob ends with what its manifest declares (whether recognised before or after the
    manifest), and nothing already shown with its declared type is sent again at the end (the
    pass sent every declared type twice: 60k extra rows for the GUI thread at 100k blobs)."""
    import gzip
    import random

    from gui import operations

    mt_layer = "application/vnd.oci.image.layer.v1.tar+gzip"
    sent: list[dict] = []

    class Job:
        cancelled = False

        def progress(self, *_a):
            pass

        def partial(self, part):
            sent.append(dict(part))

    small = add_blob(store, gzip.compress(b"x"))                                   # smaller than the manifest
    big = add_blob(store, gzip.compress(random.Random(3).randbytes(4000), 0))    # bigger than it
    cfg_bytes = json.dumps({"architecture": "amd64", "os": "linux",
                            "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cfg = add_blob(store, cfg_bytes)
    sizes = {small: len(gzip.compress(b"x")), cfg: len(cfg_bytes)}
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": MT_CONFIG, "digest": str(cfg), "size": len(cfg_bytes)},
                           "layers": [{"mediaType": mt_layer, "digest": str(d), "size": n}
                                      for d, n in ((small, sizes[small]), (big, 4000))]}).encode()
    m = add_blob(store, manifest)
    rows = [(str(i.digest), i.size) for i in store.walk()]
    assert store.info(small).size < len(manifest) < store.info(big).size
    operations.classify_media_types(store, rows, Job())
    times = Counter(d for part in sent for d in part)
    final: dict = {}
    for part in sent:
        final.update(part)
    assert final[str(small)] == final[str(big)] == mt_layer
    assert final[str(cfg)] == MT_CONFIG
    assert times[str(small)] <= 2   # at most: sniffed as plain gzip, then what the manifest says
    assert times[str(big)] == 1 and times[str(m)] == 1 and times[str(cfg)] == 1
