"""Pictures of the main window, the label editor and the import dialog, for a person to look at."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts" / "screenshots"


def test_screenshots_are_rendered_with_content(qtbot):
    from gui.screenshots import save_all
    saved = save_all(ARTIFACTS, "en")
    assert [p.name for p in saved] == ["screenshot-main.png", "screenshot-labels.png", "screenshot-import.png"]
    for p in saved:
        img = QImage(str(p))
        assert not img.isNull() and img.width() > 300, p
        colours = {img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)}
        assert len(colours) > 10, p


def test_graph_screenshots_show_the_images_tab_and_a_layer(qtbot):
    from gui.screenshots import save_graph_views
    saved = save_graph_views(ARTIFACTS, "en")
    assert [p.name for p in saved] == ["screenshot-images.png", "screenshot-layer.png"]
    for p in saved:
        img = QImage(str(p))
        assert not img.isNull() and img.width() > 300, p
        colours = {img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)}
        assert len(colours) > 10, p
