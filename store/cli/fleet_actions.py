"""``blobctl --fleet FILE rm|abort|import|leases rm``: change a selection of nodes, after one confirmation.

The plan (read-only, every node in parallel) is shown once: each node, what would be done there and
the bytes involved; a node that failed (host key, authentication, ...) is listed as failed and is
never written to.  On a terminal the command asks ``y/N``; ``--yes`` skips the question;
without a terminal and without ``--yes`` it refuses before contacting any node.  ``--dry-run``
prints the plan and changes nothing.  Then each node is changed alone, and one result line per
node follows (``--json``: one document, docs/blobctl.md "Fleets").  Exit 1 if any node failed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Callable

from .. import humanfmt
from ..fleet import actions, queries
from ..fleet.actions import FleetPlan, NodeResult
from .common import PROG, UsageError, label_pairs

ACTIONS = ("rm", "abort", "import", "leases")
RM_ALIASES = ("delete", "del", "remove")  # as the single-node 'rm'
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parsers(sub, options: Callable, parser_class) -> None:
    """The action subcommands; ``options(p, top=False)`` adds the fleet's shared options."""
    helps = {"rm": "delete blobs on the selected nodes",
             "abort": "abort ingests (--stalled: every one idle for --older-than) on the selected nodes",
             "import": "import a local file as a blob on the selected nodes (under a lease, kept by gc.root)",
             "leases": "leases on the selected nodes: 'leases rm ID...'"}
    p = sub.add_parser("rm", help=helps["rm"], description=helps["rm"], aliases=list(RM_ALIASES))
    p.add_argument("digests", nargs="+", metavar="DIGEST")
    _action_options(p, options)
    p = sub.add_parser("abort", help=helps["abort"], description=helps["abort"])
    p.add_argument("refs", nargs="*", metavar="REF")
    p.add_argument("--stalled", action="store_true",
                   help="every ingest not written to for --older-than (as 'df' flags them)")
    p.add_argument("--older-than", metavar="DURATION", default=None,
                   help=f"with --stalled: 90s, 15m, 2h, 1d, 1h30m or seconds (default "
                        f"{int(queries.DEFAULT_STALLED_AFTER.total_seconds() // 60)}m)")
    _action_options(p, options)
    p = sub.add_parser("import", help=helps["import"], description=helps["import"])
    p.add_argument("path", metavar="PATH")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="label to set on the blob on every node (repeatable)")
    _action_options(p, options)
    p = sub.add_parser("leases", help=helps["leases"], description=helps["leases"])
    lsub = p.add_subparsers(dest="leases_command", metavar="COMMAND", parser_class=parser_class)
    lsub.required = True
    q = lsub.add_parser("rm", help="remove leases by id", description="remove leases by id",
                        aliases=list(RM_ALIASES))
    q.add_argument("lease_ids", nargs="+", metavar="ID")
    _action_options(q, options)


def _action_options(p, options: Callable) -> None:
    options(p, top=False)
    p.add_argument("-y", "--yes", action="store_true", help="do not ask: change the nodes (for scripts)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")


def is_action(command: str) -> bool:
    return command in ACTIONS or command in RM_ALIASES


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``1d``, ``1h30m``, or a number of seconds."""
    t = text.strip()
    try:
        seconds = float(t)
    except ValueError:
        pos, seconds = 0, 0.0
        for m in _DURATION.finditer(t):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(t) or not t:
            raise UsageError(f"--older-than {text!r} is not a duration (90s, 15m, 2h, 1d, 1h30m, or seconds)") from None
    if seconds < 0:
        raise UsageError("--older-than must not be negative")
    return timedelta(seconds=seconds)


def build_action(args) -> actions.Action:
    """The action the command line asks for; every argument checked before any node is contacted."""
    if args.command == "abort":
        if not args.stalled and not args.refs:
            raise UsageError("abort on a fleet needs REF... or --stalled [--older-than DURATION]")
        if args.older_than is not None and not args.stalled:
            raise UsageError("--older-than goes with --stalled")
        older = (parse_duration(args.older_than) if args.older_than is not None
                 else queries.DEFAULT_STALLED_AFTER) if args.stalled else None
        return actions.AbortIngests(args.refs, older_than=older)
    if args.command == "import":
        return actions.ImportFile(args.path, labels=dict(label_pairs(args.label, allow_bare=False, what="--label")))
    if args.command == "leases":
        return actions.RemoveLeases(args.lease_ids)
    return actions.DeleteBlobs(args.digests)


def refuse_without_terminal(args, stdin) -> str | None:
    """The one-line refusal when nobody can confirm, or None."""
    if args.yes or args.dry_run or _is_tty(stdin):
        return None
    return ("refusing to change nodes without a confirmation: standard input is not a terminal; "
            "pass --yes to proceed, or --dry-run to see the plan")


def plan_table(plan: FleetPlan) -> str:
    """The confirmation: one line per node, its bytes and what would be done (or why not)."""
    rows = [["NODE", "BYTES", "PLAN"]]
    for p in plan.nodes:
        if not p.ok:
            rows.append([p.node.name, "-", f"FAILED, will not be touched: {p.reason}"])
            continue
        what = _steps_text(p)
        if p.skipped:
            what += ("; " if what else "") + "skipped: " + actions.skips_text(p.skipped)
        rows.append([p.node.name, humanfmt.size(p.bytes) if p.steps else "-", what or "nothing to do"])
    return humanfmt.table([[humanfmt.printable(c) for c in r] for r in rows])


def _steps_text(p) -> str:
    kinds: dict[str, int] = {}
    for s in p.steps:
        kinds[s.what] = kinds.get(s.what, 0) + 1
    return ", ".join(f"{n} to {s}" for s, n in kinds.items())


def confirm(plan: FleetPlan, err, stdin) -> bool:
    ready = plan.ready
    err.write(f"{PROG}: {plan.action.describe()}\n")
    err.write(plan_table(plan))
    err.write(f"{PROG}: change {len(ready)} of {len(plan.nodes)} nodes ({humanfmt.size(plan.bytes)})? [y/N] ")
    err.flush()
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run(args, out, stdin, make_plan: Callable[[actions.Action], FleetPlan],
        execute: Callable[[FleetPlan], list[NodeResult]]) -> int:
    """Plan, confirm, execute, report; the exit status.  ``out`` is fleet.py's output object."""
    action = build_action(args)
    refusal = refuse_without_terminal(args, stdin)
    if refusal:
        out.note(refusal)
        return 2
    plan = make_plan(action)
    if args.dry_run:
        if args.json:
            out.json(plan.to_json())
        else:
            out.out.write(plan_table(plan))
        return _failed_status(out, plan.failed, len(plan.nodes))
    if not plan.ready:
        out.note(f"nothing to change on any node{' that answered' if plan.failed else ''}")
    elif not args.yes:
        if not confirm(plan, out.err, stdin):
            out.note("nothing was changed")
            return 1
    results = execute(plan)
    if args.json:
        out.json(actions.results_json(action, results))
    else:
        rows = [["STATE", "NODE", "BYTES", "RESULT"]]
        for r in results:
            rows.append([r.state, r.node.name, humanfmt.size(r.bytes) if r.state == "done" else "-", _result_text(r)])
        out.out.write(humanfmt.table([[humanfmt.printable(c) for c in row] for row in rows]))
    return _failed_status(out, actions.result_failures(results), len(results))


def _result_text(r: NodeResult) -> str:
    if r.state == "failed" and not r.steps:
        return r.reason or "failed"
    counts: dict[str, int] = {}
    for s in r.steps:
        counts[s.state] = counts.get(s.state, 0) + 1
    text = ", ".join(f"{n} {state}" for state, n in counts.items())
    if r.reason:
        text += (": " if text else "") + r.reason
    return text or "nothing to do"


def _failed_status(out, failed: dict[str, str], total: int) -> int:
    for name, reason in failed.items():
        out.note(f"{name}: {reason}")
    if failed:
        out.note(f"{len(failed)} of {total} nodes failed")
    return 1 if failed else 0


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
