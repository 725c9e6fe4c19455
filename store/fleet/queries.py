"""What is asked of each node, and how the answers of a fleet are put together.

Tasks (for :class:`.runner.FleetRunner`): :func:`inventory_task` lists a node's blobs (bounded by
``max_blobs``) and ingests, and on request its image records and the bytes its next GC pass would
collect; :func:`holds_task` asks one node for one digest (one small call, no listing).  The
summaries -- :func:`where`, :func:`blob_rows`, :func:`node_rows`, :func:`drift`, :func:`image_rows`,
:func:`image_drift` -- take the outcomes in the fleet's order and name nodes exactly as the fleet
file writes them.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence

from .. import errors
from ..containerd.snapshots import usage_total
from ..digest import Digest
from ..disk import gc
from ..disk.live_gc import live_metadata_of
from ..types import Status
from .runner import NodeOutcome, NodeQuery

#: A node listing more blobs than this fails (its figures would be incomplete) instead of growing
#: without bound; about 190 bytes of memory per blob, less for digests other nodes hold too
#: (docs/fleet.md §4).
DEFAULT_MAX_BLOBS = 2_000_000
#: An ingest not written to for this long is flagged as stalled.
DEFAULT_STALLED_AFTER = timedelta(minutes=15)
_PROGRESS_EVERY = 5000
log = logging.getLogger(__name__)


class TooManyBlobs(errors.FailedPrecondition):
    fleet_kind = "too-big"


@dataclass
class NodeInventory:
    """One node's blobs (digest -> size) and ingests."""

    blobs: dict[str, int]
    ingests: list[Status]
    #: (count, bytes) of the namespace's snapshots (``ctr snapshots usage`` summed), or None when the
    #: node's daemon does not answer the Snapshots service (not a failure of the node).
    snapshots: tuple[int, int] | None = None
    #: image name -> target digest in the namespace, or None (not asked, or see ``images_error``)
    images: dict[str, str] | None = None
    images_error: str | None = None
    #: bytes the node's next GC pass would collect, every namespace counted (the live dry run,
    #: ``store.disk.live_gc``), or None (not asked, or see ``reclaimable_error``): never a guessed 0
    reclaimable: int | None = None
    reclaimable_error: str | None = None
    #: why ``reclaimable`` may be out of date, or None: a ``FleetSession`` that applies a node's
    #: ``/content/delete`` events to its cached listing keeps the figure of the earlier dry run (the
    #: dry run costs about as much as the listing it saves: docs/fleet.md §9)
    reclaimable_stale: str | None = None

    @property
    def blob_bytes(self) -> int:
        return sum(self.blobs.values())


def inventory_task(*, max_blobs: int = DEFAULT_MAX_BLOBS, snapshots: bool = True, images: bool = False,
                   reclaimable: bool = False):
    """A task listing a node's blobs and ingests (and, with ``snapshots``, the count and bytes of the
    namespace's snapshots; with ``images``, its image records; with ``reclaimable``, what the next GC
    pass would collect); more than ``max_blobs`` blobs fails the node."""
    def task(q: NodeQuery) -> NodeInventory:
        blobs: dict[str, int] = {}
        intern = sys.intern  # one string per digest across the fleet
        for batch in _listing(q):
            if q.cancelled():
                raise errors.Cancelled(f"listing {q.node.name} was cancelled")
            for digest, size in batch:
                blobs[intern(digest)] = size
            if len(blobs) > max_blobs:
                raise TooManyBlobs(f"{q.node.address}: more than {max_blobs:,} blobs; listing stopped there so one "
                                   "node cannot take all memory (raise the limit with --max-blobs)")
            if len(blobs) // _PROGRESS_EVERY != (len(blobs) - len(batch)) // _PROGRESS_EVERY:
                q.progress(len(blobs))
        q.progress(len(blobs))
        ingests = q.store.list_statuses()
        inv = NodeInventory(blobs=blobs, ingests=ingests, snapshots=_snapshot_usage(q) if snapshots else None)
        if images:
            inv.images, inv.images_error = _image_names(q)
        if reclaimable:
            inv.reclaimable, inv.reclaimable_error = _reclaimable(q, max_blobs)
        return inv
    return task


def _optional(q: NodeQuery, what: str, exc: errors.ContentError) -> str:
    """The one-line reason a figure the node's daemon would not give is missing (a lost tunnel or a
    cancel still fails the node: the caller re-raises those)."""
    reason = " ".join(str(exc).split())[:300]
    log.debug("%s: no %s: %s", q.node.name, what, reason)
    return reason


def _image_names(q: NodeQuery) -> tuple[dict[str, str] | None, str | None]:
    """Image name -> target digest of the node's namespace (the Images service through its tunnel)."""
    try:
        return {sys.intern(r.name): sys.intern(r.target) for r in q.store.image_records()}, None
    except (errors.Unavailable, errors.Cancelled):
        raise
    except errors.ContentError as exc:
        return None, _optional(q, "image records", exc)


def _reclaimable(q: NodeQuery, max_blobs: int) -> tuple[int | None, str | None]:
    """What the node's next GC pass would collect: the live dry run over the node's connection
    (reading at most ``max_blobs`` content records over all its namespaces)."""
    if q.cancelled():
        raise errors.Cancelled(f"{q.node.name}: cancelled")
    try:
        live = live_metadata_of(q.store, max_blobs=max_blobs)
        run = gc.dry_run(live.metadata, snapshot_bytes=live.snapshot_bytes)
    except (errors.Unavailable, errors.Cancelled):
        raise
    except errors.ContentError as exc:
        return None, "the GC dry run cannot run: " + _optional(q, "GC dry run", exc)
    return run.reclaimable_bytes, None


class NotContainerd(errors.FailedPrecondition):
    fleet_kind = "daemon"


def _listing(q: NodeQuery):
    """The node's List in the daemon's batches; a gRPC server without containerd's Content service
    (another program's socket) is said to be one, in one line."""
    try:
        yield from q.store.walk_sizes()
    except errors.NotImplementedErr as exc:
        reason = " ".join(str(exc).split())[:200]
        raise NotContainerd(f"{q.node.address}: the remote socket answers gRPC but is not containerd's (no content "
                            f"service: {reason})") from None


def _snapshot_usage(q: NodeQuery) -> tuple[int, int] | None:
    """The namespace's snapshot count and bytes through the node's store connection; None when the
    daemon does not serve them (a lost tunnel or a cancel still fails the node)."""
    client = q.store.snapshots()
    try:
        return usage_total(client)
    except (errors.Unavailable, errors.Cancelled):
        raise
    except errors.ContentError as exc:
        log.debug("%s: no snapshot figures: %s", q.node.name, exc)
        return None
    finally:
        client.close()


def holds_task(digest: Digest | str):
    """A task answering whether a node's namespace holds ``digest`` (one Info call)."""
    d = Digest(digest)

    def task(q: NodeQuery) -> bool:
        try:
            q.store.info(d)
        except errors.NotFound:
            return False
        return True
    return task


# ---------------------------------------------------------------------------------------------
# summaries

def _inventory(o: NodeOutcome) -> NodeInventory:
    if not isinstance(o.result, NodeInventory):
        raise TypeError(f"node {o.node.name} has no inventory (a holds_task outcome?)")
    return o.result


def failures(outcomes: Sequence[NodeOutcome]) -> dict[str, str]:
    """``{node: reason}`` of every node that did not answer, in fleet order."""
    return {o.node.name: o.reason or o.state.value for o in outcomes if not o.ok}


def where(digest: Digest | str, outcomes: Sequence[NodeOutcome]) -> dict:
    """``{"digest", "present", "absent", "failed"}`` from :func:`holds_task` outcomes (a stable shape)."""
    return {"digest": str(Digest(digest)),
            "present": [o.node.name for o in outcomes if o.ok and o.result],
            "absent": [o.node.name for o in outcomes if o.ok and not o.result],
            "failed": failures(outcomes)}


def blob_rows(outcomes: Sequence[NodeOutcome]) -> list[dict]:
    """Per digest (sorted): its size and the nodes holding it, in fleet order."""
    holders: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for o in outcomes:
        if not o.ok:
            continue
        for d, size in _inventory(o).blobs.items():
            holders.setdefault(d, []).append(o.node.name)
            sizes.setdefault(d, size)
    return [{"digest": d, "size": sizes[d], "nodes": holders[d]} for d in sorted(holders)]


def node_rows(outcomes: Sequence[NodeOutcome], *, stalled_after: timedelta = DEFAULT_STALLED_AFTER,
              now: datetime | None = None) -> list[dict]:
    """Per answering node: blob count and bytes, ingests (stalled ones listed), bytes no other node holds,
    snapshot count and bytes, reclaimable bytes (None where the node did not tell them; for
    reclaimable bytes ``reclaimable_error`` says why, and ``reclaimable_stale`` why a figure kept from
    an earlier dry run may be out of date)."""
    now = now or datetime.now(timezone.utc)
    ok = [o for o in outcomes if o.ok]
    count: dict[str, int] = {}
    for o in ok:
        for d in _inventory(o).blobs:
            count[d] = count.get(d, 0) + 1
    rows = []
    for o in ok:
        inv = _inventory(o)
        unique = [size for d, size in inv.blobs.items() if count[d] == 1]
        stalled = [s for s in inv.ingests if now - s.updated_at >= stalled_after]
        rows.append({
            "node": o.node.name,
            "blob_count": len(inv.blobs),
            "blob_bytes": inv.blob_bytes,
            "unique_count": len(unique),
            "unique_bytes": sum(unique),
            "ingest_count": len(inv.ingests),
            "ingest_bytes": sum(s.offset for s in inv.ingests),
            "snapshot_count": inv.snapshots[0] if inv.snapshots is not None else None,
            "snapshot_bytes": inv.snapshots[1] if inv.snapshots is not None else None,
            "reclaimable_bytes": inv.reclaimable,
            "reclaimable_error": inv.reclaimable_error if inv.reclaimable is None else None,
            "reclaimable_stale": inv.reclaimable_stale if inv.reclaimable is not None else None,
            "stalled_ingests": [{"ref": s.ref, "offset": s.offset, "total": s.total,
                                 "updated_at": s.updated_at.isoformat().replace("+00:00", "Z")} for s in stalled],
        })
    return rows


def drift(outcomes: Sequence[NodeOutcome]) -> list[dict]:
    """Digests present on some answering nodes and not on others: ``{"digest", "size", "present", "absent"}``."""
    names = [o.node.name for o in outcomes if o.ok]
    rows = []
    for row in blob_rows(outcomes):
        if len(row["nodes"]) == len(names):
            continue
        have = set(row["nodes"])
        rows.append({"digest": row["digest"], "size": row["size"], "present": row["nodes"],
                     "absent": [n for n in names if n not in have]})
    return rows


def _image_nodes(outcomes: Sequence[NodeOutcome]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The answering nodes that told their image records, in fleet order, and name -> {node: target}."""
    told: list[str] = []
    by_name: dict[str, dict[str, str]] = {}
    for o in outcomes:
        if not o.ok:
            continue
        images = _inventory(o).images
        if images is None:
            continue
        told.append(o.node.name)
        for name, target in images.items():
            by_name.setdefault(name, {})[o.node.name] = target
    return told, by_name


def image_failures(outcomes: Sequence[NodeOutcome]) -> dict[str, str]:
    """``{node: reason}`` of the answering nodes whose image records could not be read."""
    return {o.node.name: _inventory(o).images_error or "image records not asked"
            for o in outcomes if o.ok and _inventory(o).images is None}


def image_rows(outcomes: Sequence[NodeOutcome]) -> list[dict]:
    """Per image name (sorted): ``{"name", "present", "absent", "targets": {node: digest}, "same_target"}``
    over the nodes that told their image records (fleet order)."""
    told, by_name = _image_nodes(outcomes)
    rows = []
    for name in sorted(by_name):
        targets = by_name[name]
        rows.append({"name": name, "present": [n for n in told if n in targets],
                     "absent": [n for n in told if n not in targets],
                     "targets": {n: targets[n] for n in told if n in targets},
                     "same_target": len(set(targets.values())) == 1})
    return rows


def image_drift(outcomes: Sequence[NodeOutcome]) -> list[dict]:
    """Image names on some nodes and not on others, or on different target digests on different nodes
    (:func:`image_rows`' rows that are not the same everywhere)."""
    return [r for r in image_rows(outcomes) if r["absent"] or not r["same_target"]]


def scope_rows(rows: list[dict], node_count: int, scope: str) -> list[dict]:
    """:func:`blob_rows` rows held by every one of ``node_count`` answering nodes (``shared``), by exactly
    one (``unique``), or all of them (``all``)."""
    if scope == "shared":
        return [r for r in rows if len(r["nodes"]) == node_count]
    if scope == "unique":
        return [r for r in rows if len(r["nodes"]) == 1]
    if scope == "all":
        return rows
    raise errors.InvalidArgument(f"scope must be all, shared or unique, not {scope!r}")


__all__ = ["inventory_task", "holds_task", "NodeInventory", "TooManyBlobs", "where", "blob_rows", "node_rows",
           "drift", "failures", "image_rows", "image_drift", "image_failures", "scope_rows", "DEFAULT_MAX_BLOBS",
           "DEFAULT_STALLED_AFTER"]
