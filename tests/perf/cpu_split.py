"""CPU seconds of a benchmark step, split into "our side" and "node side", from /proc and getrusage.

For the fleet benchmarks, where the "nodes" (an sshd and a containerd each) run on this machine
beside the client.  :class:`CpuSplit` takes the node processes' pids and samples, before and
after a step:

* ``py``: this process (every thread: the runner, gRPC, the decoding of the listings);
* ``ssh``: our child processes (the ssh clients, or xargs/sh/ssh of a shell loop): the ones
  already reaped (``RUSAGE_CHILDREN``) plus the live ones (``/proc``), the node processes left out;
* ``sshd``: each node's listening sshd with every session process it forked, live or reaped
  (and whatever those run: ``ctr`` in the shell loop);
* ``containerd``: each node's daemon.

:meth:`CpuSplit.settle` waits until the sshds have no session left (a closed connection's
processes are reaped into the listener's figures) so that a cold step is counted whole.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

_TICK = os.sysconf("SC_CLK_TCK")
KINDS = ("py", "ssh", "sshd", "containerd")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu(fields: list[str], children: bool = True) -> float:
    # fields[0] is stat's 3rd field (state): utime, stime, cutime, cstime are fields 14-17
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def _parents() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = _stat(int(entry))
            if f is not None:
                out[int(entry)] = int(f[1])
    return out


def _tree(root: int, parents: dict[int, int], stop: set[int] = frozenset()) -> list[int]:
    kids: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        kids.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, ()):
            if c not in stop:
                found.append(c)
                todo.append(c)
    return found


@dataclass
class Step:
    """One measured step: wall seconds and CPU seconds by kind."""

    wall: float
    cpu: dict[str, float]

    @property
    def ours(self) -> float:
        return self.cpu["py"] + self.cpu["ssh"]

    @property
    def nodes(self) -> float:
        return self.cpu["sshd"] + self.cpu["containerd"]

    @property
    def total(self) -> float:
        return self.ours + self.nodes


class CpuSplit:
    """See the module doc."""

    def __init__(self, sshd_pids: Iterable[int], containerd_pids: Iterable[int]):
        self.sshd = [int(p) for p in sshd_pids]
        self.containerd = [int(p) for p in containerd_pids]

    def settle(self, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            parents = _parents()
            if not any(_tree(p, parents) for p in self.sshd):
                return
            time.sleep(0.02)

    def _ours(self) -> dict[str, float]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"py": me.ru_utime + me.ru_stime, "ssh": kids.ru_utime + kids.ru_stime}

    def _theirs(self, parents: dict[int, int]) -> dict[str, float]:
        node_roots = set(self.sshd) | set(self.containerd)
        live_children = 0.0
        for pid in _tree(os.getpid(), parents, stop=node_roots):
            f = _stat(pid)
            live_children += _cpu(f) if f is not None else 0.0
        sshd = 0.0
        for root in self.sshd:
            for pid in (root, *_tree(root, parents)):
                f = _stat(pid)
                sshd += _cpu(f) if f is not None else 0.0
        containerd = 0.0
        for pid in self.containerd:
            f = _stat(pid)
            containerd += _cpu(f, children=False) if f is not None else 0.0
        return {"live_children": live_children, "sshd": sshd, "containerd": containerd}

    def measure(self, fn: Callable[[], object], *, settle: bool = True) -> tuple[Step, object]:
        """Run ``fn``; its wall time and the CPU it cost on each side.  ``settle``: wait for the
        sshds' sessions to end before and after (a step that closes its connections)."""
        if settle:
            self.settle()
        theirs0 = self._theirs(_parents())
        ours0 = self._ours()
        t = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t
        ours1 = self._ours()  # before settling: the waiting below is the benchmark's, not the step's
        if settle:
            self.settle()
        ssh_reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours1["ssh"] = ssh_reaped.ru_utime + ssh_reaped.ru_stime
        theirs1 = self._theirs(_parents())
        cpu = {"py": ours1["py"] - ours0["py"],
               "ssh": ours1["ssh"] - ours0["ssh"] + theirs1["live_children"] - theirs0["live_children"],
               "sshd": theirs1["sshd"] - theirs0["sshd"],
               "containerd": theirs1["containerd"] - theirs0["containerd"]}
        return Step(wall, {k: max(0.0, v) for k, v in cpu.items()}), result
