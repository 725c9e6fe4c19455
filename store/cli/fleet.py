"""``blobctl --fleet FILE ls|where DIGEST|df|diff``: one question to every node of a fleet file
(and ``rm|abort|import|leases rm``, which change nodes after one confirmation: ``fleet_actions.py``).

Each node is reached through its own ``ssh -L`` tunnel (``store/fleet``), at most ``-j`` at once;
a node that fails is reported on stderr, one line each (``blobctl: NODE: reason``), the others
still answer, and the exit status is 1.  Nodes are named exactly as the fleet file writes them,
in JSON as in text (docs/blobctl.md, "Fleets").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from datetime import timedelta
from typing import Callable

from .. import errors, humanfmt
from ..containerd import validate_namespace
from ..digest import Digest
from ..fleet import actions, inventory, queries
from ..fleet.runner import DEFAULT_NODE_TIMEOUT, DEFAULT_WORKERS, FleetRunner, NodeOutcome, NodeState
from ..fleet.tunnel import SshOptions
from . import fleet_actions, fleet_watch
from .common import NAMESPACE_ENV, PROG, UsageError

log = logging.getLogger(__name__)

COMMANDS = ("ls", "where", "df", "diff")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see '{PROG} --fleet FILE --help')")


def _options(p: argparse.ArgumentParser, *, top: bool) -> None:
    d = None if top else argparse.SUPPRESS
    p.add_argument("--fleet", metavar="FILE", default=d,
                   help="the nodes: ssh:// addresses one a line, or an Ansible INI/YAML inventory")
    p.add_argument("--ssh-config", metavar="FILE", default=d, help="use FILE instead of ~/.ssh/config (ssh -F)")
    p.add_argument("-n", "--namespace", metavar="NS", default=d,
                   help=f"containerd namespace on every node (default: ${NAMESPACE_ENV} or 'default')")
    p.add_argument("-j", "--jobs", metavar="N", type=int, default=DEFAULT_WORKERS if top else argparse.SUPPRESS,
                   help=f"nodes queried at once (default {DEFAULT_WORKERS})")
    p.add_argument("--connect-timeout", metavar="S", type=float, default=10.0 if top else argparse.SUPPRESS,
                   help="ssh ConnectTimeout per node (default 10)")
    p.add_argument("--node-timeout", metavar="S", type=float,
                   default=DEFAULT_NODE_TIMEOUT if top else argparse.SUPPRESS,
                   help=f"a node that has not answered completely by then fails (default {DEFAULT_NODE_TIMEOUT:g})")
    p.add_argument("--max-blobs", metavar="N", type=int,
                   default=queries.DEFAULT_MAX_BLOBS if top else argparse.SUPPRESS,
                   help=f"a node listing more blobs fails instead of filling memory "
                        f"(default {queries.DEFAULT_MAX_BLOBS:,})")
    p.add_argument("--stalled-after", metavar="S", type=float,
                   default=queries.DEFAULT_STALLED_AFTER.total_seconds() if top else argparse.SUPPRESS,
                   help="df: an ingest not written to for S seconds is stalled (default "
                        f"{queries.DEFAULT_STALLED_AFTER.total_seconds():g})")
    p.add_argument("--json", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="print one JSON document")
    p.add_argument("--nodes", metavar="NAME,...", default=d,
                   help="only these nodes of FILE (names as the file writes them, or Ansible groups)")
    p.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                   help="log each node's progress")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"{PROG} --fleet FILE", description="Ask or change every node of a fleet through SSH.")
    _options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    helps = {"ls": "every digest, its size and the nodes that hold it",
             "where": "which nodes hold DIGEST (present, absent, failed)",
             "df": "per node: blobs, bytes, bytes no other node holds, reclaimable bytes, snapshot bytes, ingests "
                   "(stalled ones flagged)",
             "diff": "digests, and image names, present on some nodes and not on others (drift); an image name "
                     "on different digests on different nodes is drift too"}
    for name in COMMANDS:
        p = sub.add_parser(name, help=helps[name], description=helps[name])
        _options(p, top=False)
        if name == "where":
            p.add_argument("digest", metavar="DIGEST")
        if name == "ls":
            scope = p.add_mutually_exclusive_group()
            scope.add_argument("--shared", dest="scope", action="store_const", const="shared", default="all",
                               help="only the digests every answering node holds")
            scope.add_argument("--unique", dest="scope", action="store_const", const="unique", default="all",
                               help="only the digests exactly one answering node holds")
        if name == "df":
            p.add_argument("--no-reclaimable", dest="reclaimable", action="store_false", default=True,
                           help="skip the GC dry run of each node (reclaimable bytes: null)")
    fleet_actions.add_parsers(sub, _options, _Parser)
    fleet_watch.add_parser(sub, _options, _Parser)
    return parser


def main(argv: list[str], stdout, stderr, setup_logging: Callable[[int, object], None]) -> int:
    """Run a fleet command; the exit status (0, 1 when any node failed, 2 for wrong use, 130)."""
    try:
        args = build_parser().parse_args(argv)
        if args.jobs < 1:
            raise UsageError("-j/--jobs must be at least 1")
        if args.max_blobs < 1 or args.node_timeout <= 0 or args.connect_timeout <= 0 or args.stalled_after < 0:
            raise UsageError("--max-blobs, --node-timeout, --connect-timeout and --stalled-after must be positive")
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    setup_logging(args.verbose, stderr)
    out = _Output(stdout, stderr)
    try:
        nodes = select_nodes(inventory.read_fleet(args.fleet), args.nodes)
        namespace = args.namespace or os.environ.get(NAMESPACE_ENV) or "default"
        digest = Digest.parse(args.digest) if args.command == "where" else None
        validate_namespace(namespace)
        ssh = SshOptions(config=args.ssh_config, connect_timeout=args.connect_timeout,
                         open_timeout=max(args.connect_timeout * 3, 30.0))
        task = queries.holds_task(digest) if digest is not None else queries.inventory_task(
            max_blobs=args.max_blobs, images=args.command in ("ls", "diff"),
            reclaimable=args.command == "df" and args.reclaimable)
        progress = _Progress(stderr, len(nodes)) if _is_tty(stderr) else None

        def on_event(o: NodeOutcome) -> None:
            _log_event(o)
            if progress is not None:
                progress.update(o)

        runner_kwargs = dict(ssh=ssh, namespace=namespace, workers=args.jobs, node_timeout=args.node_timeout,
                             on_event=on_event)
        old_term = _raise_on_sigterm()
        try:
            if args.command == "watch":
                return fleet_watch.run(args, nodes, ssh, namespace, stdout)
            if fleet_actions.is_action(args.command):
                def make_plan(action: actions.Action) -> actions.FleetPlan:
                    plan = actions.make_plan(nodes, action, **runner_kwargs)
                    if progress is not None:
                        progress.clear()  # before the confirmation is written
                        progress.states.clear()  # execute counts its nodes afresh
                        progress.total = len(plan.ready)
                    return plan

                def execute(plan: actions.FleetPlan) -> list[actions.NodeResult]:
                    results = actions.execute(plan, **runner_kwargs)
                    if progress is not None:
                        progress.clear()  # before the results are written
                    return results
                return fleet_actions.run(args, out, sys.stdin, make_plan, execute)
            runner: FleetRunner = FleetRunner(nodes, task, **runner_kwargs)
            outcomes = runner.run()
        finally:
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
            if progress is not None:
                progress.clear()
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    except errors.ContentError as exc:
        stderr.write(f"{PROG}: {humanfmt.printable(str(exc))}\n")
        return 1
    except KeyboardInterrupt as exc:
        why = f" ({exc.args[0]})" if exc.args else ""
        stderr.write(f"{PROG}: interrupted{why}; every tunnel was closed\n")
        return 130
    status = _REPORTS[args.command](args, out, outcomes, digest)
    failed = queries.failures(outcomes)
    for name, reason in failed.items():
        out.note(f"{name}: {reason}")
    if failed:
        out.note(f"{len(failed)} of {len(outcomes)} nodes failed")
    return 1 if failed else status


def select_nodes(nodes: list[inventory.Node], selection: str | None) -> list[inventory.Node]:
    """The nodes named in ``selection`` (``a,b``: names as the file writes them, or Ansible groups),
    in file order; every name must match, or nothing runs."""
    if selection is None:
        return nodes
    wanted = [w.strip() for w in selection.split(",") if w.strip()]
    if not wanted:
        raise UsageError("--nodes names no node")
    known = {n.name for n in nodes} | {g for n in nodes for g in n.groups}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise UsageError(f"--nodes: not in the fleet file: {', '.join(unknown)}")
    chosen = set(wanted)
    return [n for n in nodes if n.name in chosen or chosen.intersection(n.groups)]


def _raise_on_sigterm():
    """SIGTERM ends the run like Ctrl-C (every tunnel closed, its directory removed); the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_term(signum, frame):
        raise KeyboardInterrupt("terminated")
    return signal.signal(signal.SIGTERM, on_term)


def _log_event(o: NodeOutcome) -> None:
    if o.state in (NodeState.DONE, NodeState.FAILED, NodeState.CANCELLED):
        log.info("%s: %s%s", o.node.name, o.state.value, f" ({o.reason})" if o.reason else "")
    else:
        log.debug("%s: %s %s", o.node.name, o.state.value, o.count or "")


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """One status line on a terminal's stderr: how many nodes are done, failed, running."""

    def __init__(self, stream, total: int):
        self.stream, self.total = stream, total
        self.states: dict[str, NodeState] = {}
        self.lock = threading.Lock()

    def update(self, o: NodeOutcome) -> None:
        with self.lock:
            self.states[o.node.name] = o.state
            done = sum(s is NodeState.DONE for s in self.states.values())
            failed = sum(s in (NodeState.FAILED, NodeState.CANCELLED) for s in self.states.values())
            running = sum(s in (NodeState.CONNECTING, NodeState.LISTING) for s in self.states.values())
            self.stream.write(f"\r{PROG}: {done + failed}/{self.total} nodes: {done} done, {failed} failed, "
                              f"{running} running\x1b[K")
            self.stream.flush()

    def clear(self) -> None:
        with self.lock:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class _Output:
    def __init__(self, out, err):
        self.out, self.err = out, err

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def note(self, text: str) -> None:
        self.err.write(f"{PROG}: {humanfmt.printable(text)}\n")

    def json(self, value: dict) -> None:
        """One JSON object; a list in it has one element per line (fast at 100k digests, greppable)."""
        encode = json.JSONEncoder(ensure_ascii=True).encode  # the C encoder (no indent)
        parts = []
        for key, item in value.items():
            if isinstance(item, list) and item:
                inner = ",\n    ".join(encode(v) for v in item)
                parts.append(f"  {encode(key)}: [\n    {inner}\n  ]")
            else:
                parts.append(f"  {encode(key)}: {encode(item)}")
        self.out.write("{\n" + ",\n".join(parts) + "\n}\n")


def _ok_names(outcomes) -> list[str]:
    return [o.node.name for o in outcomes if o.ok]


def _report_where(args, out: _Output, outcomes, digest) -> int:
    report = queries.where(digest, outcomes)
    if args.json:
        out.json(report)
    else:
        for name in report["present"]:
            out.print(f"present  {name}")
        for name in report["absent"]:
            out.print(f"absent   {name}")
        for name in report["failed"]:
            out.print(f"failed   {name}")
    if not report["present"] and not report["failed"]:
        out.note(f"no node holds {report['digest']}")
        return 1
    return 0


def _report_ls(args, out: _Output, outcomes, _digest) -> int:
    total = len(_ok_names(outcomes))
    rows = queries.scope_rows(queries.blob_rows(outcomes), total, args.scope)
    if args.json:
        out.json({"nodes": _ok_names(outcomes), "failed": queries.failures(outcomes), "blobs": rows,
                  "scope": args.scope, "images": queries.image_rows(outcomes),
                  "images_failed": queries.image_failures(outcomes)})
        return 0
    table = [["DIGEST", "SIZE", "NODES", "ON"]]
    table += [[r["digest"], humanfmt.size(r["size"]), f"{len(r['nodes'])}/{total}", ",".join(r["nodes"])]
              for r in rows]
    out.out.write(humanfmt.table(table))
    return 0


def _report_df(args, out: _Output, outcomes, _digest) -> int:
    rows = queries.node_rows(outcomes, stalled_after=timedelta(seconds=args.stalled_after))
    if args.json:
        out.json({"nodes": rows, "failed": queries.failures(outcomes)})
        return 0
    table = [["NODE", "BLOBS", "SIZE", "UNIQUE", "RECLAIMABLE", "SNAPSHOTS", "INGESTS", "STALLED"]]
    table += [[r["node"], humanfmt.count(r["blob_count"]), humanfmt.size(r["blob_bytes"]),
               humanfmt.size(r["unique_bytes"]),
               "-" if r["reclaimable_bytes"] is None else humanfmt.size(r["reclaimable_bytes"]),
               "-" if r["snapshot_bytes"] is None else humanfmt.size(r["snapshot_bytes"]),
               humanfmt.count(r["ingest_count"]),
               ",".join(s["ref"] for s in r["stalled_ingests"]) or "-"] for r in rows]
    out.out.write(humanfmt.table(table))
    for r in rows:
        if r["reclaimable_error"]:
            out.note(f"{r['node']}: reclaimable bytes unknown: {r['reclaimable_error']}")
    return 0


def _report_diff(args, out: _Output, outcomes, _digest) -> int:
    rows = queries.drift(outcomes)
    images = queries.image_drift(outcomes)
    images_failed = queries.image_failures(outcomes)
    if args.json:
        out.json({"nodes": _ok_names(outcomes), "failed": queries.failures(outcomes), "blobs": rows,
                  "images": images, "images_failed": images_failed})
        return 0
    table = [["DIGEST", "SIZE", "PRESENT", "ABSENT"]]
    table += [[r["digest"], humanfmt.size(r["size"]), ",".join(r["present"]), ",".join(r["absent"])] for r in rows]
    out.out.write(humanfmt.table(table))
    if not rows:
        out.note("every answering node holds the same blobs")
    if images:
        table = [["IMAGE", "PRESENT", "ABSENT", "TARGETS"]]
        table += [[r["name"], ",".join(r["present"]) or "-", ",".join(r["absent"]) or "-",
                   "same" if r["same_target"] else
                   " ".join(f"{n}={d}" for n, d in r["targets"].items())] for r in images]
        out.print()
        out.out.write(humanfmt.table(table))
    elif len(images_failed) < len(_ok_names(outcomes)):
        out.note("every answering node has the same image names on the same digests")
    for name, reason in images_failed.items():
        out.note(f"{name}: images not compared: {reason}")
    return 0


_REPORTS = {"where": _report_where, "ls": _report_ls, "df": _report_df, "diff": _report_diff}

