"""A synchronous GC pass asked of a running daemon, predicted first and measured after.

:func:`predict` reads every namespace's records through the daemon's services
(:mod:`.live_gc`) and runs the dry run; :func:`run_pass` deletes a throw-away lease with the
``sync`` option of the leases service's Delete (containerd runs a pass and answers when it is
done, as ``ctr leases delete --sync`` does), reads the records again and reports, per kind,
the records and bytes that went beside those predicted.  Bytes are the records' own (a blob's
size, a snapshot's Usage, an ingest's offset); a blob still recorded in another namespace keeps
its file and is not counted.  Nothing here deletes a file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable, Mapping

from . import gc as gcmod
from .live_gc import LiveMetadata, live_metadata

Key = tuple[str, str, str]  # (kind, namespace, id)


@dataclass
class Prediction:
    live: LiveMetadata
    run: gcmod.DryRun
    #: kind -> (records, bytes) the pass would delete
    per_kind: dict[str, tuple[int, int]]

    @property
    def bytes(self) -> int:
        return sum(b for _n, b in self.per_kind.values())


@dataclass
class PassResult:
    predicted: dict[str, tuple[int, int]]
    measured: dict[str, tuple[int, int]]
    deleted_unpredicted: list[Key] = field(default_factory=list)
    predicted_not_deleted: list[Key] = field(default_factory=list)

    @property
    def predicted_bytes(self) -> int:
        return sum(b for _n, b in self.predicted.values())

    @property
    def measured_bytes(self) -> int:
        return sum(b for _n, b in self.measured.values())


def record_bytes(gone: set[Key], sizes: Mapping[Key, int], left: set[Key]) -> dict[str, tuple[int, int]]:
    """Per kind: how many of ``gone`` and their bytes (a blob counted once, and not while ``left`` records it)."""
    left_digests = {k[2] for k in left if k[0] == "blob"}
    out = {k: (0, 0) for k in gcmod.KINDS}
    counted: set[str] = set()
    for key in gone:
        kind, _ns, rid = key
        n, b = out[kind]
        nbytes = sizes.get(key, 0)
        if kind == "blob":
            if rid in left_digests or rid in counted:
                nbytes = 0
            counted.add(rid)
        out[kind] = (n + 1, b + nbytes)
    return out


def _keys(run: gcmod.DryRun) -> tuple[dict[Key, int], set[Key]]:
    sizes = {(v.kind, v.namespace, v.id): v.bytes for v in run.verdicts}
    return sizes, {(v.kind, v.namespace, v.id) for v in run.verdicts if v.collect}


def predict(address: str, *, tls=None) -> Prediction:
    """What the next pass of the daemon at ``address`` would delete, over every namespace."""
    live = live_metadata(address, None, tls=tls)
    run = gcmod.dry_run(live.metadata, snapshot_bytes=live.snapshot_bytes)
    sizes, collect = _keys(run)
    return Prediction(live, run, record_bytes(collect, sizes, set(sizes) - collect))


def run_pass(address: str, prediction: Prediction, *, tls=None,
             after_pass: Callable[[], None] | None = None) -> PassResult:
    """Ask the daemon for one pass and wait for it; what went, beside ``prediction``.
    ``after_pass`` runs as soon as the pass is done (``blobctl gc`` measures the disk there)."""
    from ..containerd.client import ContainerdStore

    sizes, predicted_gone = _keys(prediction.run)
    # the throw-away lease goes in a namespace that exists (a lease in a new one would create it)
    names = [ns.name for ns in prediction.live.metadata.namespaces]
    base = ContainerdStore(address, names[0] if names else "default", lease=None, tls=tls)
    try:
        lease = base.create_lease(expire=None, lease_id=f"blobscope-gc-{secrets.token_hex(6)}")
        base.delete_lease(lease, sync=True)
    finally:
        base.close()
    if after_pass is not None:
        after_pass()
    after = live_metadata(address, None, tls=tls, usage=False)
    left = {(v.kind, v.namespace, v.id) for v in gcmod.dry_run(after.metadata).verdicts}
    gone = set(sizes) - left
    return PassResult(prediction.per_kind, record_bytes(gone, sizes, left),
                      sorted(gone - predicted_gone), sorted(predicted_gone - gone))


__all__ = ["PassResult", "Prediction", "predict", "record_bytes", "run_pass"]
