"""The Fleet tab's node table: one row per node, named as the fleet file writes it.

State (queued, connecting, listing, done, failed with the reason, cancelled), a progress bar
while the node runs (busy, with the running blob count, since a listing has no known total),
then its blob count, bytes, bytes only it holds, reclaimable bytes (what its next GC pass would
collect: the live dry run through its tunnel; "-" with the reason when that cannot run; "(stale)"
once an event of the node arrived after its dry run, and still so when a refresh applies a delete
without listing the node: docs/fleet.md §9),
snapshots (count and bytes) and ingests, stalled ones flagged.  Rows change as each node's
events arrive; no row waits for another.  The last column keeps each node's part in the last
action on the fleet (planning, executing, then done / failed with the reason / skipped), and the
next one why the last refresh listed the node again or left it "unchanged" (not contacted), then
what its event stream said since (a change, a delete, or that it is down: docs/fleet.md §9).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QProgressBar, QTreeWidget, QTreeWidgetItem, QWidget

from .. import fmt

NAME, STATE, PROGRESS, BLOBS, BYTES, UNIQUE, RECLAIMABLE, SNAPSHOTS, INGESTS, REASON, RESULT, REFRESH = range(12)
FAILED_COLOR = QColor("#b3261e")
HOLDS_COLOR = QColor("#d7ecd9")
STALE_COLOR = QColor("#6b6b6b")
RUNNING = ("queued", "connecting", "listing")


class NodeTable(QTreeWidget):
    """See the module doc."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("fleetNodeView")
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setHeaderLabels([self.tr("Node"), self.tr("State"), self.tr("Progress"), self.tr("Blobs"),
                              self.tr("Bytes"), self.tr("Only here"), self.tr("Reclaimable"), self.tr("Snapshots"),
                              self.tr("Ingests"), self.tr("Reason"), self.tr("Last action"), self.tr("Refresh")])
        self.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        for col, width in ((NAME, 260), (STATE, 80), (PROGRESS, 110), (BLOBS, 70), (BYTES, 90), (UNIQUE, 120),
                           (RECLAIMABLE, 100), (SNAPSHOTS, 110), (INGESTS, 100), (REASON, 220), (RESULT, 160)):
            self.setColumnWidth(col, width)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.bars: dict[str, QProgressBar] = {}
        self.states: dict[str, str] = {}
        self.refreshes: dict[str, str] = {}  # node -> why the last run listed it (or "unchanged")
        self.reclaimable: dict[str, int] = {}  # node -> the reclaimable bytes shown
        self.stale: set[str] = set()  # nodes whose shown reclaimable bytes are older than their news
        self.measured: dict[str, datetime] = {}  # node -> when its shown figures were listed
        self.stalled_after = timedelta(minutes=15)
        self.results: dict[str, tuple[str, str]] = {}  # node -> (state, text) of the last action

    def action_state_text(self, state: str) -> str:
        return {"planning": self.tr("planning…"), "planned": self.tr("planned"), "executing": self.tr("executing…"),
                "done": self.tr("done"), "failed": self.tr("failed"), "skipped": self.tr("skipped"),
                "cancelled": self.tr("cancelled")}.get(state, state)

    def show_action(self, name: str, state: str, text: str = "") -> None:
        """One node's part in the last action on the fleet (kept across a refresh)."""
        self.results[name] = (state, text)
        item = self.items.get(name)
        if item is None:
            return
        shown = self.action_state_text(state) + (f": {text}" if text else "")
        item.setText(RESULT, shown)
        item.setToolTip(RESULT, shown)
        item.setForeground(RESULT, QBrush(FAILED_COLOR) if state == "failed" else QBrush())

    def refresh_text(self, why: str) -> str:
        return {"new": self.tr("listed: new"), "failed": self.tr("listed: failed last time"),
                "changed": self.tr("listed: changed"), "stale": self.tr("listed: event stream was down"),
                "unsupported": self.tr("listed: the daemon sends no events"),
                "unwatched": self.tr("listed: not watched"), "asked": self.tr("listed: asked"),
                "all": self.tr("listed: refresh all"),
                "unchanged": self.tr("unchanged: not contacted")}.get(why, why)

    def show_refresh(self, name: str, why: str) -> None:
        """Why the run lists ``name`` again, or that it keeps its listing (``why`` is a session.Why value)."""
        item = self.items.get(name)
        if item is None:
            return
        self.refreshes[name] = why
        item.setText(REFRESH, self.refresh_text(why))
        item.setToolTip(REFRESH, item.text(REFRESH))
        item.setForeground(REFRESH, QBrush())
        if why != "unchanged":
            self._ensure_bar(item, name)

    def show_watch(self, name: str, watch: str, topic: str | None, reason: str | None) -> None:
        """What a node's event stream said since the last run (shown until the next one)."""
        item = self.items.get(name)
        if item is None:
            return
        if topic == "/content/delete":
            text = self.tr("blob deleted: applied at the next refresh")
        elif topic:
            text = self.tr("changed ({topic}): listed at the next refresh").format(topic=topic)
        elif watch == "stale":
            text = self.tr("event stream down: listed at the next refresh ({why})").format(why=reason or "")
        elif watch == "unsupported":
            text = self.tr("no events from this daemon: listed at every refresh")
        else:
            return
        item.setText(REFRESH, text)
        item.setToolTip(REFRESH, text)
        item.setForeground(REFRESH, QBrush(FAILED_COLOR) if watch == "stale" else QBrush())
        # any news can move what GC would free (and events say nothing of leases or GC passes)
        self._stale_reclaimable(item, name, text)

    def _ensure_bar(self, item: QTreeWidgetItem, name: str) -> None:
        if name in self.bars:
            return
        item.setText(PROGRESS, "")
        bar = QProgressBar(self)
        bar.setObjectName("fleetNodeProgress")
        bar.setRange(0, 0)  # busy: a listing has no known total
        bar.setTextVisible(True)
        bar.setFormat("")
        self.setItemWidget(item, PROGRESS, bar)
        self.bars[name] = bar

    def selected_nodes(self) -> list[str]:
        """The selected rows' node names, in the fleet's order."""
        chosen = {id(i) for i in self.selectedItems()}
        return [name for name, item in self.items.items() if id(item) in chosen]

    def state_text(self, state: str) -> str:
        return {"queued": self.tr("queued"), "connecting": self.tr("connecting"), "listing": self.tr("listing"),
                "done": self.tr("done"), "failed": self.tr("failed"), "cancelled": self.tr("cancelled"),
                "unchanged": self.tr("unchanged")}.get(state, state)

    def set_nodes(self, names: list[str]) -> None:
        self.clear()
        self.items.clear()
        self.bars.clear()
        self.states.clear()
        self.refreshes.clear()
        self.reclaimable.clear()
        self.stale.clear()
        self.measured.clear()
        for name in names:
            item = QTreeWidgetItem([name, self.state_text("queued")] + [""] * (REASON - STATE))
            item.setToolTip(NAME, name)
            for col in (BLOBS, BYTES, UNIQUE, RECLAIMABLE, SNAPSHOTS, INGESTS):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.addTopLevelItem(item)
            self.items[name] = item
            self._ensure_bar(item, name)
            self.states[name] = "queued"
            if name in self.results:
                self.show_action(name, *self.results[name])

    def update_node(self, outcome, *, unchanged: bool = False) -> None:
        """Show one ``NodeOutcome`` (``unchanged``: a cached one, the node was not contacted)."""
        name = outcome.node.name
        item = self.items.get(name)
        if item is None:
            return
        state = outcome.state.value
        self.states[name] = state
        item.setText(STATE, self.state_text("unchanged" if unchanged and state == "done" else state))
        if state in RUNNING:
            self._ensure_bar(item, name)
        bar = self.bars.get(name)
        if state in RUNNING:
            if bar is not None and outcome.count:
                bar.setFormat(self.tr("{n} blobs").format(n=f"{outcome.count:,}"))
            return
        if bar is not None:  # finished: the bar gives way to the figures
            self.removeItemWidget(item, PROGRESS)
            self.bars.pop(name, None)
        item.setText(PROGRESS, self.tr("{s:.1f} s").format(s=outcome.seconds) if outcome.seconds and not unchanged
                     else "")
        for col in (STATE, REASON):
            item.setForeground(col, QBrush())
        if state == "done":
            inv = outcome.result
            if not unchanged or name not in self.measured:
                self.measured[name] = datetime.now().astimezone()
            item.setText(BLOBS, f"{len(inv.blobs):,}")
            item.setText(BYTES, fmt.size(inv.blob_bytes))
            snaps = getattr(inv, "snapshots", None)
            if snaps is None:
                item.setText(SNAPSHOTS, "-")
                item.setToolTip(SNAPSHOTS, self.tr("The node's daemon did not tell its snapshots"))
            else:
                item.setText(SNAPSHOTS, self.tr("{n} · {size}").format(n=f"{snaps[0]:,}", size=fmt.size(snaps[1])))
                item.setToolTip(SNAPSHOTS, self.tr("{n} snapshots using {size} (ctr snapshots usage)").format(
                    n=f"{snaps[0]:,}", size=fmt.exact_size(snaps[1])))
            self._show_reclaimable(item, name, inv)
            now = datetime.now(timezone.utc)
            stalled = [s for s in inv.ingests if now - s.updated_at >= self.stalled_after]
            text = str(len(inv.ingests))
            if stalled:
                text = self.tr("{n} ({stalled} stalled)").format(n=len(inv.ingests), stalled=len(stalled))
                item.setForeground(INGESTS, QBrush(FAILED_COLOR))
                item.setToolTip(INGESTS, "\n".join(s.ref for s in stalled))
            item.setText(INGESTS, text)
            item.setText(REASON, "")
        else:
            reason = outcome.reason or state
            item.setText(REASON, reason)
            item.setToolTip(REASON, reason)
            if state == "failed":
                for col in (STATE, REASON):
                    item.setForeground(col, QBrush(FAILED_COLOR))

    def _show_reclaimable(self, item: QTreeWidgetItem, name: str, inv) -> None:
        nbytes = getattr(inv, "reclaimable", None)
        item.setForeground(RECLAIMABLE, QBrush())
        self.stale.discard(name)
        if nbytes is None:
            self.reclaimable.pop(name, None)
            why = getattr(inv, "reclaimable_error", None) or self.tr("not asked")
            item.setText(RECLAIMABLE, "-")
            item.setToolTip(RECLAIMABLE, self.tr("Unknown: {why}").format(why=why))
            return
        self.reclaimable[name] = nbytes
        item.setText(RECLAIMABLE, fmt.size(nbytes))
        item.setToolTip(RECLAIMABLE, self.tr("{size} that the node's next garbage collection would free "
                                             "(every namespace counted), by the dry run of its listing at {when}; "
                                             "leases ending and GC passes send no event: Refresh Selected "
                                             "runs it again").format(size=fmt.exact_size(nbytes),
                                                                     when=self._measured_at(name)))
        if getattr(inv, "reclaimable_stale", None):
            self._stale_reclaimable(item, name, self.tr("blobs were deleted (seen in its events)"))

    def _measured_at(self, name: str) -> str:
        return self.measured[name].strftime("%H:%M:%S") if name in self.measured else "?"

    def _stale_reclaimable(self, item: QTreeWidgetItem, name: str, since: str) -> None:
        """Mark the shown reclaimable figure as older than what the node said since (until it is listed)."""
        nbytes = self.reclaimable.get(name)
        if nbytes is None:
            return
        self.stale.add(name)
        item.setText(RECLAIMABLE, self.tr("{size} (stale)").format(size=fmt.size(nbytes)))
        item.setForeground(RECLAIMABLE, QBrush(STALE_COLOR))
        item.setToolTip(RECLAIMABLE, self.tr("Stale: {size} by the dry run of the listing at {when}; since then: "
                                             "{since}. Refresh Selected lists the node and runs it again").format(
            size=fmt.exact_size(nbytes), when=self._measured_at(name), since=since))

    def set_unique(self, rows: list[dict]) -> None:
        """Blobs and bytes no other answering node holds (``queries.node_rows``), per node."""
        for row in rows:
            item = self.items.get(row["node"])
            if item is not None:
                item.setText(UNIQUE, self.tr("{n} · {size}").format(n=f"{row['unique_count']:,}",
                                                                     size=fmt.size(row["unique_bytes"])))
                item.setToolTip(UNIQUE, self.tr("{n} blobs ({size}) that no other answering node holds").format(
                    n=f"{row['unique_count']:,}", size=fmt.exact_size(row["unique_bytes"])))

    def highlight(self, names: set[str]) -> None:
        """Mark the rows of ``names`` (the nodes holding the selected digest); the others plain."""
        for name, item in self.items.items():
            on = name in names
            font = QFont(item.font(NAME))
            font.setBold(on)
            for col in range(self.columnCount()):
                item.setFont(col, font)
                item.setBackground(col, QBrush(HOLDS_COLOR) if on else QBrush())

    def highlighted(self) -> list[str]:
        return [name for name, item in self.items.items() if item.font(NAME).bold()]

    def row_texts(self, name: str) -> dict[str, str]:
        item = self.items[name]
        keys = ("node", "state", "progress", "blobs", "bytes", "unique", "reclaimable", "snapshots", "ingests", "reason",
                "result", "refresh")
        return {k: item.text(i) for i, k in enumerate(keys)}


__all__ = ["NodeTable"]
