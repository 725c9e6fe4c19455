"""The image graph in the window on a store of many images, cold (no media-type cache): what the
graph, the details pane, Select Unreferenced and a Delete of part of them give is checked against a
bare pass over labels.db and the directory (tests/perf/bench_million_graph.py runs the same at a
million blobs for its timings).  Slow: 24 000 blobs, recognised by spawned worker processes."""

from __future__ import annotations

import os
import weakref

import pytest

from gui.commands.select import SelectUnreferenced
from gui.details.references import DIGEST_ROLE
from gui.jobs import JobRunner
from store import oci
from tests.gui.conftest import wait_jobs
from tests.perf.bench_million_graph import expected_unreferenced_set
from tests.support.image_store import populate

BLOBS, IMAGES = 24_000, 480


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_graph_details_select_unreferenced_and_delete_on_many_images(qtbot, make_window, tmp_path, dialogs):
    populate(tmp_path / "many", BLOBS, IMAGES)
    content = tmp_path / "many" / "content"
    unref, images = expected_unreferenced_set(content)
    assert len(images) == IMAGES and len(unref) > BLOBS // 2

    win = make_window(content, wait=False)
    with qtbot.waitSignal(win.graphBuilt, timeout=300_000):
        pass
    g = win.image_graph.graph
    assert len(g.sizes) == BLOBS
    assert {str(r.digest) for r in g.image_roots()} == images
    assert {str(d) for d in g.reclaimable()} == unref
    assert win.graph_label.text().startswith(f"{len(unref)} unreferenced")

    # the details pane: an index's manifest shows the index as parent and its config and 8 layers
    manifest = next(d for d, ct in g.types.items() if ct.kind == oci.Kind.MANIFEST)
    layer = next(e.child for e in g.children(manifest) if e.name.startswith("l."))
    for digest in (str(manifest), str(layer)):
        win.selection.select_blob_row(win.blob_model.row_for(digest))
        qtbot.waitUntil(lambda d=digest: win.details.current == d and win.details.refs.digest == d)
        assert "Reachable" in win.details.refs.status.text()
        shown = {i.data(0, DIGEST_ROLE) for i in win.details.refs.items()}
        assert {str(e.parent) for e in g.parents(digest)} <= shown
        assert {str(e.child) for e in g.children(digest)} <= shown
    assert len(g.children(manifest)) == 9 and [str(e.parent) for e in g.parents(manifest)][0] in images

    # Select Unreferenced: too scattered to select in place, so only they are shown, all selected
    assert win.blob_model.rowCount() == BLOBS
    win.action_map["actionSelectUnreferenced"].trigger()
    qtbot.waitUntil(lambda: win.blob_model.rowCount() == len(unref) and win.selection.blob_count() == len(unref))
    assert set(win.blob_model.columns.digests_of(win.selection.blob_rids())) == unref
    assert "only the" in win.statusBar().currentMessage() and f"{len(unref)} unreferenced" in \
        win.statusBar().currentMessage()
    assert win.filter_edit.text() == ""

    # Delete part of them: exactly those go, the graph is rebuilt, the rest stay unreferenced
    k = 500
    win.selection.select_blob_rows(list(range(k)))
    victims = set(win.blob_model.columns.digests_of(win.selection.blob_rids()))
    assert len(victims) == k and victims <= unref
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    qtbot.waitUntil(lambda: win.blob_model.total_count == BLOBS - k, timeout=60_000)
    qtbot.waitUntil(lambda: win.image_graph.graph is not g and win.image_graph.graph is not None
                    and len(win.image_graph.graph.sizes) == BLOBS - k, timeout=120_000)
    left = {"sha256:" + n for n in os.listdir(content / "blobs" / "sha256")}
    assert not victims & left and len(left) == BLOBS - k
    assert {str(d) for d in win.image_graph.graph.reclaimable()} == unref - victims
    wait_jobs(qtbot, win, timeout=60_000)

    # Select Unreferenced again on the new graph, then Enter in the empty filter box shows every blob
    win.action_map["actionSelectUnreferenced"].trigger()
    qtbot.waitUntil(lambda: win.selection.blob_count() == len(unref) - k)
    assert set(win.blob_model.columns.digests_of(win.selection.blob_rids())) == unref - victims
    win.filter_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: win.blob_model.rowCount() == BLOBS - k)


def test_few_unreferenced_blobs_are_selected_in_place():
    """The count of ranges a selection of sorted rows needs decides between the two ways."""
    from gui.commands import select
    assert select._runs([]) == 0
    assert select._runs([4]) == 1
    assert select._runs([1, 2, 3, 7, 8, 10]) == 3
    assert select._runs(list(range(0, 100, 2)), stop=5) == 6  # stops counting past ``stop``
    assert SelectUnreferenced.MAX_RANGES >= 100


def test_a_finished_job_lets_go_of_what_its_work_closed_over(qtbot):
    """A pool runnable lives as long as the process: the data its work used must not."""
    runner = JobRunner()

    class Big:
        pass

    big = Big()
    alive = weakref.ref(big)
    results = []

    def work(job, data=big):
        return type(data).__name__

    runner.start("closure", work, on_done=results.append)
    del work, big
    qtbot.waitUntil(lambda: results == ["Big"])
    runner.pool.waitForDone(5000)
    assert alive() is None


def test_images_made_lazily_equal_images_made_at_once(qtmodeltester, tmp_path):
    """The Images tab's trees made on first use show what trees made up front show."""
    from gui.images.images_model import DIGEST_ROLE as TREE_DIGEST
    from gui.images.images_model import ImagesTreeModel
    from store import LocalStore
    from store import graph as G

    populate(tmp_path / "few", 300, 6)
    g = G.load_graph(LocalStore(tmp_path / "few" / "content"), oci.MediaTypeCache(None))
    images = sorted(g.images(), key=lambda i: str(i.digest))
    eager, lazy = ImagesTreeModel(), ImagesTreeModel()
    eager.set_images([(i, g.tree(i.digest)) for i in images])
    lazy.set_images([(i, None) for i in images], g.tree)
    qtmodeltester.check(lazy, force_py=True)

    def dump(m, parent=None):
        from PySide6.QtCore import QModelIndex
        parent = parent or QModelIndex()
        out = []
        for r in range(m.rowCount(parent)):
            idx = m.index(r, 0, parent)
            out.append((m.data(idx), m.data(idx, TREE_DIGEST), [m.data(m.index(r, c, parent)) for c in range(7)],
                        dump(m, idx)))
        return out

    assert len(images) == 6 and dump(lazy) == dump(eager)
    layer = next(e.child for e in g.children(next(d for d, ct in g.types.items() if ct.kind == oci.Kind.MANIFEST))
                 if e.name.startswith("l."))
    assert lazy.find(str(layer)).isValid() and lazy.find(str(layer)).data(TREE_DIGEST) == str(layer)
