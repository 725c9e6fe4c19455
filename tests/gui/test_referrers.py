"""gui/blobs/referrers.py: the blobs whose gc.ref.content labels name a digest, as the details
pane lists them before the graph and as Delete warns with them, kept right as rows come and go."""

from __future__ import annotations

from gui.blobs.blob_model import BlobTableModel
from gui.blobs.referrers import ReferrerIndex
from gui.rows import BlobRow

REF = "containerd.io/gc.ref.content"


def row(i: int, labels=None) -> BlobRow:
    return BlobRow(f"sha256:{i:064x}", i, i, i, labels or {})


def d(i: int) -> str:
    return f"sha256:{i:064x}"


def test_parents_follow_containerd_keys_shared_label_sets_new_rows_and_removals():
    m = BlobTableModel()
    shared = {f"{REF}.l.0": d(1), f"{REF}.config": d(2)}
    m.append_rows([row(1), row(2), row(3, shared), row(4, shared),
                   row(5, {f"{REF}X": d(1), "containerd.io/gc.root": "x"}),  # not a reference key
                   row(6, {REF: d(2), "other": d(1)})])
    refs = ReferrerIndex(m)
    assert sorted(refs.of(d(1))) == [(d(3), f"{REF}.l.0"), (d(4), f"{REF}.l.0")]
    assert sorted(refs.of(d(2))) == [(d(3), f"{REF}.config"), (d(4), f"{REF}.config"), (d(6), REF)]
    assert refs.of(d(3)) == [] and refs.of("sha256:" + "f" * 64) == []

    # a row appended later with a new label set, and one removed
    m.append_rows([row(7, {f"{REF}/x": d(1)})])
    m.remove_digests([d(3)])
    refs.invalidate()
    assert sorted(refs.of(d(1))) == [(d(4), f"{REF}.l.0"), (d(7), f"{REF}/x")]
    assert refs.referencing([d(1), d(5), d(2)]) == {d(1): refs.of(d(1)), d(2): refs.of(d(2))}

    # another listing (the model cleared): nothing of the old label sets is kept
    m.clear()
    m.append_rows([row(1), row(8, {f"{REF}.m.0": d(1)})])
    assert refs.of(d(1)) == [(d(8), f"{REF}.m.0")] and refs.of(d(2)) == []
