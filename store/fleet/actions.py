"""Acting on many nodes: plan (read-only), confirm, execute; each node alone (docs/fleet.md §7).

An :class:`Action` says what to change on one node: :class:`DeleteBlobs`, :class:`RemoveLeases`,
:class:`AbortIngests` (named refs, or every ingest idle for longer than a threshold, as
``queries.node_rows`` flags them), :class:`ImportFile` (under a lease, ending with the gc.root and
labels like the single-node import).

1. **Plan**: :func:`plan_runner` asks every node, through a *read-only* store, what the action
   would do there (is the blob present? its size; an ingest's offset; what a lease keeps) and
   :func:`plan_from` turns the outcomes into a :class:`FleetPlan`: per node the steps and their
   bytes, what is skipped (not present), or why the node failed (its tunnel did not open: host
   key unknown or changed, authentication refused, ...).
2. **Confirm**: the caller shows the plan once (the command line asks y/N).
3. **Execute**: :class:`Execution` opens a writable store only on the nodes whose plan has steps,
   and runs exactly those steps; a node that failed in the plan is never contacted again.  The
   tunnel is checked again (``StrictHostKeyChecking=yes``), so a key that changed between plan and
   execute fails the node before anything is written.  Each step re-checks what it acts on, so a
   blob deleted or an ingest written to since the plan is *skipped*, not acted on blindly.

Results are per node (:class:`NodeResult`: ``done``, ``failed`` with the reason, ``skipped``)
with one :class:`StepResult` per planned step.  Pure Python, no Qt.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import errors
from ..digest import Digest
from ..labels import validate as validate_labels
from ..types import Info
from .inventory import Node
from .queries import DEFAULT_STALLED_AFTER
from .runner import FleetRunner, NodeOutcome, NodeQuery

#: A lease keeping more content records than this is sized with one listing of the namespace
#: instead of one Info call per record.
_INFO_CALLS_MAX = 200
_HASH_CHUNK = 1 << 20
#: After a cancel, how long a node's write may take to stop by itself (abort its ingest, end its
#: lease) before its tunnel is closed under it (then the ingest and its lease stay until they expire).
CANCEL_GRACE = 10.0


class StepSkipped(Exception):
    """Raised by :meth:`Action.apply`: the step's object is gone or changed since the plan."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Step:
    """One change planned on one node."""

    target: str  # a digest, a lease id, an ingest ref
    what: str  # "delete", "remove lease", "abort", "import", "label"
    bytes: int  # the bytes involved (see each action)
    detail: str = ""
    expect: Any = None  # what apply() checks is unchanged (an ingest's updated_at)

    def to_json(self) -> dict:
        return {"target": self.target, "what": self.what, "bytes": self.bytes, "detail": self.detail}


@dataclass
class Skip:
    """A target the plan found nothing to do for on a node (``not present``, ...)."""

    target: str
    reason: str

    def to_json(self) -> dict:
        return {"target": self.target, "reason": self.reason}


class Action:
    """What to change on one node.  ``inspect`` only reads; ``apply`` does one planned step."""

    name = "action"

    def describe(self) -> str:
        """A short phrase for the confirmation (``delete 2 blobs``)."""
        return self.name

    def targets(self) -> list[str]:
        return []

    def inspect(self, q: NodeQuery) -> tuple[list[Step], list[Skip]]:
        raise NotImplementedError

    def apply(self, q: NodeQuery, step: Step) -> None:
        raise NotImplementedError


class DeleteBlobs(Action):
    """Delete blobs by digest.  Bytes: the blob's size (freed on disk once no other namespace of
    the node holds it and the daemon's GC has run)."""

    name = "rm"

    def __init__(self, digests: Sequence[Digest | str]):
        if not digests:
            raise errors.InvalidArgument("no digest to delete")
        self.digests = list(dict.fromkeys(Digest.parse(str(d)) for d in digests))

    def describe(self) -> str:
        return f"delete {_plural(len(self.digests), 'blob')}"

    def targets(self) -> list[str]:
        return [str(d) for d in self.digests]

    def inspect(self, q):
        steps, skipped = [], []
        for d in self.digests:
            try:
                info = q.store.info(d)
            except errors.NotFound:
                skipped.append(Skip(str(d), "not present"))
                continue
            steps.append(Step(str(d), "delete", info.size))
        return steps, skipped

    def apply(self, q, step):
        try:
            q.store.delete(step.target)
        except errors.NotFound:
            raise StepSkipped("not present (gone since the plan)") from None


class RemoveLeases(Action):
    """Remove leases by id.  Bytes: what the lease keeps (its content records' sizes and its ingests'
    offsets), which the daemon's GC may free once nothing else keeps it."""

    name = "leases rm"

    def __init__(self, lease_ids: Sequence[str]):
        ids = list(dict.fromkeys(lease_ids))
        if not ids or any(not i or not i.isprintable() for i in ids):
            raise errors.InvalidArgument("a lease id must be a non-empty printable string")
        self.lease_ids = ids

    def describe(self) -> str:
        return f"remove {_plural(len(self.lease_ids), 'lease')}"

    def targets(self) -> list[str]:
        return list(self.lease_ids)

    def inspect(self, q):
        steps, skipped = [], []
        for lease in self.lease_ids:
            try:
                resources = q.store.lease_resources(lease)
            except errors.NotFound:
                skipped.append(Skip(lease, "no such lease"))
                continue
            steps.append(Step(lease, "remove lease", _lease_bytes(q, resources), _resources_text(resources)))
        return steps, skipped

    def apply(self, q, step):
        try:
            q.store.delete_lease(step.target)
        except errors.NotFound:
            raise StepSkipped("no such lease (gone since the plan)") from None


class AbortIngests(Action):
    """Abort ingests: the named ``refs``, and/or every ingest not written to for ``older_than`` (the
    stalled ones).  Bytes: the ingest's offset (what it holds on disk)."""

    name = "abort"

    def __init__(self, refs: Sequence[str] = (), *, older_than: timedelta | None = None,
                 now: Callable[[], datetime] | None = None):
        if not refs and older_than is None:
            raise errors.InvalidArgument("abort needs refs or a stalled threshold")
        if any(not r for r in refs):
            raise errors.InvalidArgument("a ref must not be empty")
        if older_than is not None and older_than < timedelta(0):
            raise errors.InvalidArgument("the stalled threshold must not be negative")
        self.refs = list(dict.fromkeys(refs))
        self.older_than = older_than
        self.now = now or (lambda: datetime.now(timezone.utc))

    def describe(self) -> str:
        if self.refs:
            return f"abort {_plural(len(self.refs), 'ingest')}"
        return f"abort the ingests idle for {_duration(self.older_than or DEFAULT_STALLED_AFTER)} or more"

    def targets(self) -> list[str]:
        return list(self.refs)

    def _stalled(self, status) -> bool:
        return self.older_than is None or self.now() - status.updated_at >= self.older_than

    def inspect(self, q):
        statuses = {s.ref: s for s in q.store.list_statuses()}
        steps, skipped = [], []
        wanted = self.refs or list(statuses)
        for ref in wanted:
            s = statuses.get(ref)
            if s is None:
                skipped.append(Skip(ref, "no such ingest"))
            elif not self._stalled(s):
                if self.refs:
                    skipped.append(Skip(ref, "not stalled (written to recently)"))
            else:
                idle = _duration(self.now() - s.updated_at)
                total = f" of {s.total}" if s.total else ""
                steps.append(Step(ref, "abort", s.offset, f"{s.offset}{total} bytes, idle {idle}",
                                  expect=s.updated_at))
        return steps, skipped

    def apply(self, q, step):
        try:
            status = q.store.status(step.target)
        except errors.NotFound:
            raise StepSkipped("no such ingest (gone since the plan)") from None
        if step.expect is not None and status.updated_at != step.expect:
            raise StepSkipped("written to since the plan: not stalled")
        try:
            q.store.abort(step.target)
        except errors.NotFound:
            raise StepSkipped("no such ingest (gone since the plan)") from None


class ImportFile(Action):
    """Import one local file on every node, under a lease, ending with ``containerd.io/gc.root`` and
    ``labels`` (``ContainerdStore.import_file``).  Bytes: the file's size where the node lacks the
    blob; 0 where it has it (then only ``labels`` are merged, or nothing is done)."""

    name = "import"

    def __init__(self, path: os.PathLike | str, *, labels: dict[str, str] | None = None):
        self.path = Path(path)
        self.labels = dict(labels or {})
        validate_labels(self.labels)
        self.digest, self.size = _hash_file(self.path)

    def describe(self) -> str:
        return f"import {self.path.name} ({self.digest})"

    def targets(self) -> list[str]:
        return [str(self.digest)]

    def inspect(self, q):
        try:
            info = q.store.info(self.digest)
        except errors.NotFound:
            return [Step(str(self.digest), "import", self.size, str(self.path))], []
        if all(info.labels.get(k) == v for k, v in self.labels.items()):
            return [], [Skip(str(self.digest), "already present")]
        return [Step(str(self.digest), "label", 0, "already present; labels merged")], []

    def apply(self, q, step):
        if step.what == "label":
            info = q.store.info(self.digest)
            q.store.update(Info(info.digest, info.size, info.created_at, info.updated_at, self.labels),
                           *(f"labels.{k}" for k in self.labels))
            return
        info = q.store.import_file(self.path, labels=self.labels or None, cancel=q.cancelled,
                                   progress=lambda done, _total: q.progress(done))
        if info.digest != self.digest:
            raise errors.FailedPrecondition(f"{self.path} changed since the plan: it imported as {info.digest}, "
                                            f"not {self.digest}")


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass
class NodePlan:
    """What the action would do on one node, or why the node could not be asked."""

    node: Node
    steps: list[Step] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    reason: str | None = None  # set when the node failed: it is never executed
    kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.steps)

    def to_json(self) -> dict:
        row: dict[str, Any] = {"node": self.node.name}
        if not self.ok:
            row.update(state="failed", reason=self.reason, kind=self.kind)
        else:
            row.update(state="ready" if self.steps else "nothing")
        row.update(bytes=self.bytes, steps=[s.to_json() for s in self.steps],
                   skipped=[s.to_json() for s in self.skipped])
        return row


@dataclass
class FleetPlan:
    action: Action
    nodes: list[NodePlan]

    @property
    def ready(self) -> list[NodePlan]:
        """The nodes that will be changed: they answered and have steps."""
        return [p for p in self.nodes if p.ok and p.steps]

    @property
    def failed(self) -> dict[str, str]:
        return {p.node.name: p.reason or "failed" for p in self.nodes if not p.ok}

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.nodes)

    def to_json(self) -> dict:
        return {"action": self.action.name, "targets": self.action.targets(),
                "nodes": [p.to_json() for p in self.nodes], "failed": self.failed}


def plan_runner(nodes: Sequence[Node], action: Action, **runner_kwargs) -> FleetRunner:
    """A runner asking every node what ``action`` would do there (read-only); its outcomes go to
    :func:`plan_from`.  ``runner_kwargs``: ``ssh``, ``namespace``, ``workers``, ``node_timeout``, ``on_event``."""
    runner_kwargs.pop("read_only", None)
    return FleetRunner(nodes, action.inspect, read_only=True, **runner_kwargs)


def plan_from(action: Action, outcomes: Sequence[NodeOutcome]) -> FleetPlan:
    plans = []
    for o in outcomes:
        if o.ok and o.result is not None:
            steps, skipped = o.result
            plans.append(NodePlan(o.node, list(steps), list(skipped)))
        else:
            plans.append(NodePlan(o.node, reason=o.reason or o.state.value, kind=o.kind or o.state.value))
    return FleetPlan(action, plans)


def make_plan(nodes: Sequence[Node], action: Action, **runner_kwargs) -> FleetPlan:
    """Plan ``action`` on every node (in parallel, bounded, read-only)."""
    return plan_from(action, plan_runner(nodes, action, **runner_kwargs).run())


# ---------------------------------------------------------------------------------------------
# execution


@dataclass
class StepResult:
    target: str
    what: str
    bytes: int
    state: str  # "done", "failed", "skipped"
    reason: str | None = None

    def to_json(self) -> dict:
        return {"target": self.target, "what": self.what, "bytes": self.bytes, "state": self.state,
                "reason": self.reason}


@dataclass
class NodeResult:
    """One node after the execute step: ``done`` (at least one step done, none failed), ``failed``
    (the node or a step failed; ``reason``), or ``skipped`` (nothing to do, or every step skipped)."""

    node: Node
    state: str
    steps: list[StepResult] = field(default_factory=list)
    reason: str | None = None
    kind: str | None = None

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.steps if s.state == "done")

    def to_json(self) -> dict:
        return {"node": self.node.name, "state": self.state, "reason": self.reason, "bytes": self.bytes,
                "steps": [s.to_json() for s in self.steps]}


class Execution:
    """Run a plan's steps on its ready nodes (writable stores), each node alone; see the module doc.

    ``runner`` is the :class:`FleetRunner` (``cancel()`` from any thread; ``on_event`` as for queries).
    """

    def __init__(self, plan: FleetPlan, **runner_kwargs):
        self.plan = plan
        self._steps = {p.node.name: p.steps for p in plan.ready}
        self._done: dict[str, list[StepResult]] = {name: [] for name in self._steps}
        runner_kwargs.pop("read_only", None)
        runner_kwargs.setdefault("cancel_grace", CANCEL_GRACE)
        self.runner: FleetRunner = FleetRunner([p.node for p in plan.ready], self._task, read_only=False,
                                               **runner_kwargs)

    def cancel(self) -> None:
        self.runner.cancel()

    def _task(self, q: NodeQuery) -> list[StepResult]:
        done = self._done[q.node.name]  # kept even if the node fails half-way
        for step in self._steps[q.node.name]:
            if q.cancelled():
                raise errors.Cancelled("cancelled")
            try:
                self.plan.action.apply(q, step)
            except StepSkipped as exc:
                done.append(StepResult(step.target, step.what, step.bytes, "skipped", exc.reason))
            except (errors.Unavailable, errors.Cancelled):
                raise  # the tunnel or the run ended: the node's failure, not this step's
            except errors.ContentError as exc:
                done.append(StepResult(step.target, step.what, step.bytes, "failed", " ".join(str(exc).split())))
            else:
                done.append(StepResult(step.target, step.what, step.bytes, "done"))
        return done

    def run(self) -> list[NodeResult]:
        """Execute; the results of every node of the plan, in the fleet's order."""
        return self.results(self.runner.run())

    def results(self, outcomes: Sequence[NodeOutcome]) -> list[NodeResult]:
        by_name = {o.node.name: o for o in outcomes}
        results = []
        for p in self.plan.nodes:
            name = p.node.name
            if not p.ok:
                results.append(NodeResult(p.node, "failed", reason=f"not changed: {p.reason}", kind=p.kind))
                continue
            if not p.steps:
                results.append(NodeResult(p.node, "skipped", reason=skips_text(p.skipped) or "nothing to do"))
                continue
            o = by_name[name]
            steps = list(self._done[name])
            if not o.ok:
                for step in p.steps[len(steps):]:
                    steps.append(StepResult(step.target, step.what, step.bytes, "failed", "not attempted"))
                results.append(NodeResult(p.node, "failed", steps, reason=o.reason or o.state.value,
                                          kind=o.kind or o.state.value))
                continue
            failed = [s for s in steps if s.state == "failed"]
            if failed:
                results.append(NodeResult(p.node, "failed", steps, kind="step",
                                          reason=f"{failed[0].target}: {failed[0].reason}"
                                                 + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else "")))
            elif any(s.state == "done" for s in steps):
                results.append(NodeResult(p.node, "done", steps))
            else:
                results.append(NodeResult(p.node, "skipped", steps, reason=steps[0].reason if steps else None))
        return results


def execute(plan: FleetPlan, **runner_kwargs) -> list[NodeResult]:
    """``Execution(plan, **runner_kwargs).run()``."""
    return Execution(plan, **runner_kwargs).run()


def result_failures(results: Sequence[NodeResult]) -> dict[str, str]:
    """``{node: reason}`` of every node that failed, in fleet order."""
    return {r.node.name: r.reason or "failed" for r in results if r.state == "failed"}


def results_json(action: Action, results: Sequence[NodeResult]) -> dict:
    return {"action": action.name, "targets": action.targets(), "nodes": [r.to_json() for r in results],
            "failed": result_failures(results)}


# ---------------------------------------------------------------------------------------------
# helpers


def _hash_file(path: Path) -> tuple[Digest, int]:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before open(): a FIFO would block it
            raise errors.InvalidArgument(f"cannot import {path}: not a regular file")
        f = open(path, "rb")
    except OSError as exc:
        raise errors.InvalidArgument(f"cannot open {path} for import: {exc.strerror or exc}") from None
    with f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise errors.InvalidArgument(f"cannot import {path}: not a regular file")
        hasher = hashlib.sha256()  # what import_file commits under (the canonical algorithm)
        size = 0
        while chunk := f.read(_HASH_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return Digest.from_hasher(hasher), size


def _lease_bytes(q: NodeQuery, resources: list[tuple[str, str]]) -> int:
    content = [rid for kind, rid in resources if kind == "content"]
    ingests = {rid for kind, rid in resources if kind == "ingests"}
    total = 0
    if len(content) > _INFO_CALLS_MAX:
        wanted = set(content)
        for batch in q.store.walk_sizes():
            total += sum(size for d, size in batch if d in wanted)
    else:
        for d in content:
            try:
                total += q.store.info(d).size
            except (errors.NotFound, errors.InvalidArgument):
                pass
    if ingests:
        total += sum(s.offset for s in q.store.list_statuses() if s.ref in ingests)
    return total


def _resources_text(resources: list[tuple[str, str]]) -> str:
    kinds: dict[str, int] = {}
    for kind, _ in resources:
        kinds[kind] = kinds.get(kind, 0) + 1
    if not kinds:
        return "keeps nothing"
    return f"keeps {len(resources)}: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


def skips_text(skips: list[Skip]) -> str:
    reasons: dict[str, int] = {}
    for s in skips:
        reasons[s.reason] = reasons.get(s.reason, 0) + 1
    return ", ".join(f"{n} {r}" if n > 1 else r for r, n in reasons.items())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _duration(d: timedelta) -> str:
    s = int(d.total_seconds())
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


__all__ = ["Action", "DeleteBlobs", "RemoveLeases", "AbortIngests", "ImportFile", "Step", "Skip", "StepSkipped",
           "NodePlan", "FleetPlan", "plan_runner", "plan_from", "make_plan", "StepResult", "NodeResult",
           "Execution", "execute", "result_failures", "results_json", "skips_text"]
