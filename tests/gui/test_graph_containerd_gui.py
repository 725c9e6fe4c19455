"""The image graph in the window on content a real containerd imported (``ctr images import``
of a umoci image): through the daemon's socket, and from its stopped root (labels from meta.db)."""

from __future__ import annotations

import pytest

from gui.details.references import DIGEST_ROLE as REF_DIGEST
from tests.gui.conftest import wait_jobs
from tests.support.containerd import ContainerdDaemon
from tests.support.images import describe_layout, make_oci_image

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

NAME = "example.org/fixture/gui-graph:1.0"
MOTD = "hello from containerd\n"


def _open(qtbot, make_window, target):
    win = make_window(target, wait=False)
    with qtbot.waitSignal(win.graphBuilt, timeout=60000):
        pass
    return win


def _check_window(qtbot, win, want, names) -> None:
    from PySide6.QtCore import Qt

    from gui.images.images_model import DIGEST_ROLE
    model = win.images_view.model
    assert model.image_count() == 1
    top = model.index(0, 0)
    assert top.data(DIGEST_ROLE) == want.index
    # the root row is named as `ctr images ls` names it (the image record), not by its digest
    assert top.data() == f"{names[0]}  [linux/amd64, linux/arm64]"
    assert top.data(Qt.ItemDataRole.ToolTipRole).splitlines()[:len(names) + 1] == [*names, want.index]
    for r, arch in enumerate(("amd64", "arm64")):
        m = model.index(r, 0, top)
        assert m.data() == f"m.{r}  linux/{arch}" and m.data(DIGEST_ROLE) == want.manifests[arch]
        kids = [model.index(i, 0, m).data(DIGEST_ROLE) for i in range(model.rowCount(m))]
        assert kids == [want.configs[arch], *want.layers[arch]]
    # containerd's own labels: the manifest's children and its parent, as links
    win.commands.select_blob.run(want.manifests["arm64"])
    qtbot.waitUntil(lambda: win.details.refs.digest == want.manifests["arm64"] and bool(win.details.refs.items()))
    names = [(i.text(0), i.data(0, REF_DIGEST)) for i in win.details.refs.items()]
    assert ("config", want.configs["arm64"]) in names and ("m.1", want.index) in names
    win.action_map["actionSelectUnreferenced"].trigger()
    assert win.selection.blob_count() == 0
    assert "No unreferenced blobs" in win.statusBar().currentMessage()
    # the motd layer's files, read through this store
    win.commands.select_blob.run(want.layers["amd64"][1])
    win.action_map["actionBrowseLayer"].trigger()
    dlg = win.commands.browse_layer.dialog
    qtbot.waitUntil(lambda: dlg.finished_listing, timeout=30000)
    assert dlg.select_path("etc/motd")
    qtbot.waitUntil(lambda: dlg.preview.toPlainText() == MOTD, timeout=30000)
    dlg.close()
    wait_jobs(qtbot, win)


def test_images_and_references_of_a_ctr_import_live_and_offline(qtbot, make_window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # a daemon store caches per user
    archive = make_oci_image(tmp_path / "img", NAME, platforms=("amd64", "arm64"), motd=MOTD)
    want = describe_layout(archive.parent / "layout")
    with ContainerdDaemon(tmp_path) as daemon:
        daemon.ctr("images", "import", "--all-platforms", str(archive))
        names = sorted(daemon.ctr("images", "ls", "-q").stdout.split())
        assert names == [NAME]
        win = _open(qtbot, make_window, daemon.address)
        _check_window(qtbot, win, want, names)
        win.shutdown()
        daemon.stop()
        win = _open(qtbot, make_window, daemon.root)
        assert win.store.read_only
        _check_window(qtbot, win, want, names)
