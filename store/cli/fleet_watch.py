"""``blobctl --fleet FILE watch``: every node's containerd events, as JSON lines, until Ctrl-C.

One tunnel and one event subscription per node (``store/fleet/session.py``); nothing is listed.
Each line is one node's news: its stream coming up (``"watch": "watching"``), going down
(``"stale"`` with the reason; it is tried again every ``--retry`` seconds) or not offered by the
daemon (``"unsupported"``), or an event (``topic``, ``namespace``, ``timestamp``, and ``digest``
for ``/content/delete``).  A blob written on a node publishes no event (docs/fleet.md §9).
"""

from __future__ import annotations

import argparse
import json
import queue
import time
from typing import Callable

from .. import errors
from ..containerd.events import CHANGE_TOPICS, filters
from ..fleet.inventory import Node
from ..fleet.session import FleetSession, WatchEvent
from ..fleet.tunnel import SshOptions
from .common import UsageError

HELP = "print every node's containerd events as JSON lines until Ctrl-C (nothing is listed)"
#: Lines waiting to be printed; past this a slow reader loses events (and is told how many).
MAX_QUEUED = 10_000


def add_parser(sub, options: Callable, parser_class) -> None:
    p = sub.add_parser("watch", help=HELP, description=HELP)
    options(p, top=False)
    p.add_argument("--topic", action="append", default=None, metavar="PREFIX",
                   help="event topics to print: a prefix ending in '/' or a whole topic (repeatable; default "
                        f"{' '.join(CHANGE_TOPICS)})")
    p.add_argument("--retry", metavar="S", type=float, default=10.0,
                   help="try a node whose stream is down again every S seconds (default 10)")
    p.add_argument("--max-events", metavar="N", type=int, default=None,
                   help="stop after N events (default: until Ctrl-C)")


def run(args: argparse.Namespace, nodes: list[Node], ssh: SshOptions, namespace: str, stdout) -> int:
    """Watch until Ctrl-C (KeyboardInterrupt reaches the caller, every tunnel closed) or ``--max-events``."""
    if args.retry <= 0 or (args.max_events is not None and args.max_events < 1):
        raise UsageError("--retry and --max-events must be positive")
    topics = tuple(args.topic or CHANGE_TOPICS)
    try:
        filters(topics, namespace)  # a bad topic is one line here, not a stale stream per node
    except errors.InvalidArgument as exc:
        raise UsageError(f"--topic: {exc.message}") from None
    lines: "queue.Queue[WatchEvent]" = queue.Queue(MAX_QUEUED)
    dropped = 0

    def on_watch(report: WatchEvent) -> None:
        nonlocal dropped
        try:
            lines.put_nowait(report)
        except queue.Full:
            dropped += 1

    events = 0
    session = FleetSession(nodes, ssh=ssh, namespace=namespace, on_watch=on_watch,
                           topics=topics, max_watched=len(nodes))
    try:
        next_retry = time.monotonic() + args.retry
        while args.max_events is None or events < args.max_events:
            try:
                report = lines.get(timeout=0.2)
            except queue.Empty:
                report = None
            if report is not None:
                line = report.to_json()
                if dropped:
                    line["dropped_before"], dropped = dropped, 0
                stdout.write(json.dumps(line) + "\n")
                stdout.flush()
                events += report.event is not None
            if time.monotonic() >= next_retry:
                session.rewatch()
                next_retry = time.monotonic() + args.retry
    finally:
        session.close()
    return 0


__all__ = ["add_parser", "run", "HELP"]
