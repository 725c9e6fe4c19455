"""The open store's image graph: built on the job runner after a listing, from the scan's own
rows (no second walk) once the media-type pass has warmed the cache, and after that updated
for the blobs that changed alone (graph_update: only new blobs are read); shown in the Images
tab, the status bar's "unreferenced" count and the details pane's references.  The GUI thread
only queries the finished, immutable ``store.graph.Graph``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from .. import fmt
from ..kinds import kind_of
from ..memory import release_freed_memory
from . import graph_ops, graph_update
from .unreferenced import UnreferencedRows, unreferenced_rows, updated_unreferenced

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QTabWidget

    from store.api import BlobscopeStore
    from store.graph import Graph

    from ..blobs.blob_model import BlobTableModel
    from ..details.details_pane import DetailsPane
    from ..jobs import Job, JobRunner
    from ..rows import BlobRow
    from .images_view import ImagesPanel

log = logging.getLogger(__name__)

GRAPH_DELAY_MS = 300  # a burst of model changes (a multi-delete, several imports) rebuilds once
# ...and at least this many times as long as the last graph took: at 1M blobs an update takes
# seconds (the image space, the unreferenced rows), and a Delete read back from disk a burst at a
# time updated it over and over beside the delete (19 s became 30-80 s, tests/perf/RESULTS.md)
GRAPH_DELAY_FACTOR = 2
GRAPH_DELAY_MAX_S = 5.0  # an update is never put off longer than GRAPH_DELAY_FACTOR times this


class ImageGraph(QObject):
    changed = Signal()  # a graph arrived or was dropped: the actions that need one follow
    built = Signal()    # a fresh graph (references, images, reclaimable) is in use

    def __init__(self, *, current_store: Callable[[], BlobscopeStore | None], runner: JobRunner,
                 blobs: BlobTableModel, images_view: ImagesPanel, label: QLabel, tabs: QTabWidget,
                 details: DetailsPane, scanning: Callable[[], bool], closing: Callable[[], bool],
                 parent: QObject | None = None):
        super().__init__(parent)
        self._store, self._runner, self._blobs = current_store, runner, blobs
        self._images, self._label, self._tabs, self._details = images_view, label, tabs, details
        self._scanning, self._closing = scanning, closing
        self.graph: Graph | None = None  # the latest graph of this store, or None
        self.unreferenced: UnreferencedRows | None = None  # its unreachable blobs as table rows
        self.known_types: dict | None = None  # what the media-type pass just recognised, used once
        self._job: Job | None = None
        # digests changed since self.graph was made (None: build from every row); emptied when the
        # job that took them lands, so a cancelled job's changes go to the next one
        self._pending: set[str] | None = None
        self.updates = 0  # graphs updated by name rather than built (tests, the log)
        self._took = 0.0  # seconds the last update that landed took, from its start
        self._asked = 0   # rebuild_next() calls: one after a job started outlives the job
        # deletes, label edits and imports change the graph even when no rescan follows
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(GRAPH_DELAY_MS)
        self.timer.timeout.connect(self.start)
        blobs.totalsChanged.connect(self._maybe_stale)

    def set_known_types(self, types: dict | None) -> None:
        """The media-type pass's content types: the next build reuses them instead of sniffing again."""
        self.known_types = types

    def reset(self) -> None:
        """Another store: drop the graph, say it is being worked out."""
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self.graph = None
        self._pending = None
        self.unreferenced = None
        self.timer.stop()
        self._images.model.clear()
        self._tabs.setTabText(self._tabs.indexOf(self._images), self.tr("Images"))
        self._images.show_state(self.tr("Working out the image graph…"))
        self._label.setText("")
        self.changed.emit()

    def rebuild_next(self) -> None:
        """The next graph is built from every row (a full listing), not updated by name."""
        self._pending = None
        self._asked += 1

    # ------------------------------------------------------------------ building
    def _maybe_stale(self) -> None:
        if self.graph is not None and not self._scanning():  # a scan rebuilds it when it ends anyway
            self.timer.start(max(GRAPH_DELAY_MS, int(self._took * GRAPH_DELAY_FACTOR * 1000)))

    def start(self) -> None:
        store = self._store()
        if store is None or self._closing():
            return
        changes = self._blobs.take_changes()
        if changes is None or self._pending is None:
            self._pending = None
        else:
            self._pending |= changes
        base, pending = self.graph, self._pending
        if (base is None or base.facts is None or pending is None
                or len(pending) > graph_update.max_changed(len(base.sizes))):
            pending = None
        elif not pending:
            self.known_types = None
            return  # nothing changed since this graph (or the one being made) was made
        else:
            pending = set(pending)
        columns = self._blobs.columns
        # the scan's rows, immutable (the graph walks nothing again); digest -> row for an update
        snap = self._blobs.columns_snapshot()
        if self._job is not None:
            self._job.cancel()  # its changes are still pending: this job takes them too
        known, self.known_types = self.known_types, None
        handed = [known]  # the build takes them out: once built, nothing here holds them
        del known
        asked = self._asked
        started = time.monotonic()
        prev_unref = self.unreferenced  # base's answer: an update adjusts it for what changed
        if pending is None:
            self._label.setText(self.tr("Building the image graph…"))

        def work(job):
            if pending is not None and base is not None:
                g = graph_update.update_graph(store, base, snap, pending, job, handed.pop())
            else:
                g = graph_ops.build_graph(store, snap, job, handed)
            # images and their space are computed here too; an image's tree (a few dozen nodes, cheap)
            # is made when the Images tab first shows it
            images = sorted(g.images(), key=lambda i: (i.name or "~", str(i.digest)))
            unref = None
            if pending is not None and base is not None and prev_unref is not None:
                unref = updated_unreferenced(prev_unref, base, g, snap, pending, lambda: job.cancelled)
            if unref is None:
                unref = unreferenced_rows(columns, snap, g.reachable, lambda: job.cancelled)
            return g, [(i, None) for i in images], g.space(), unref

        def done(result):
            if job is not self._job or store is not self._store():
                return  # a newer scan or another store: this graph is stale
            self._job = None
            if pending is not None:  # a build (a listing's) says nothing of what an update takes
                self._took = min(time.monotonic() - started, GRAPH_DELAY_MAX_S)
            if asked == self._asked:  # else a full listing came since: the next graph is built whole
                self._pending = set()  # every change noted until this job started is in this graph
            if pending is not None:
                self.updates += 1
            self._use(*result)
            if len(pending if pending is not None else result[0].sizes) >= graph_ops.FREEZE_ABOVE:
                # the build's records and the media types handed to it (or the graph a big update
                # replaced) are gone: give their pages back
                self._runner.start("release memory", lambda _job: release_freed_memory())

        def failed(error):
            if job is not self._job:
                return
            self._job = None
            self._pending = None  # whatever went wrong, the next graph is built from every row
            self._label.setText("")
            from store import errors
            if not isinstance(error, errors.Cancelled):
                self._images.show_state(self.tr("The image graph could not be built: {error}").format(
                    error=error))
                log.warning("building the image graph failed: %s", error)

        job = self._runner.start("image graph", work, on_done=done, on_error=failed)
        self._job = job

    def _use(self, graph, images, space, unreferenced) -> None:
        self.graph = graph
        old, self.unreferenced = self.unreferenced, unreferenced
        if old is not None and old is not unreferenced:
            old.snap = None  # only the newest answer is adjusted: its columns snapshot may go
        self._label.setText(self.tr("{n} unreferenced ({size})").format(
            n=space.reclaimable_count, size=fmt.size(space.reclaimable_bytes)))
        self._label.setToolTip(self.tr("Blobs no image or gc.root label reaches: containerd's garbage "
                                       "collector would remove them. Edit ▸ Select Unreferenced selects "
                                       "them."))
        self._images.set_graph(images, space, graph.tree)
        self._tabs.setTabText(self._tabs.indexOf(self._images), self.tr("Images ({n})").format(n=len(images)))
        if self._details.current is not None:
            self.show_refs(self._details.current)
        self.changed.emit()
        self.built.emit()

    # ------------------------------------------------------------------ questions
    def answers(self, digest: str) -> bool:
        """The graph in use has ``digest``: :meth:`show_refs` shows its references."""
        return self.graph is not None and digest in self.graph.sizes

    def show_refs(self, digest: str) -> None:
        """The details pane's references from the graph (once there is one)."""
        graph = self.graph
        if graph is None or not self.answers(digest):
            return  # no graph yet, or a blob newer than it: the label parents stay until the rebuild
        self._details.refs.show_refs(graph.refs(digest))
        if self._images.isVisible():
            self._images.reveal(digest)

    def is_layer(self, row: BlobRow) -> bool:
        kind = self.graph.kind(row.digest) if self.graph is not None else ""
        return (kind or kind_of(row.media_type, row.size)) == "layer"

    def media_type(self, digest: str) -> str:
        return self.graph.media_type(digest) if self.graph is not None else ""
