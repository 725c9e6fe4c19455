"""What every thread of a process was doing in a gap: an outside sampler of ``/proc``.

Run by a benchmark (``bench_million.py --stalls``) as a child process that starts no thread:
``python tests/perf/stall_sampler.py PID``.  About every millisecond it reads, for every thread
of PID, ``/proc/PID/task/TID/stat`` (state R/S/D, minor and major faults, utime + stime),
``schedstat`` (time on a CPU, ns), ``wchan`` (the kernel function a sleeping thread waits in) and
``syscall`` (the system call it is in, ``running``, or -1 when it is stopped outside one, as
in a page fault); and of the process its faults and ``VmRSS``.  The files are kept open and
re-read with ``pread`` (procfs renders them anew at offset 0), so a sample costs tens of
microseconds, not a ``open`` per file.

The benchmark talks to it over stdin, one JSON object a line:

* ``{"report": [t0, t1], "label": "...", "names": {"tid": "name"}}``: print (to stderr) each
  thread's timeline through the gap ``[t0, t1]`` (``time.monotonic``/``perf_counter`` seconds:
  both are CLOCK_MONOTONIC, shared between processes): runs of samples with the same state,
  wait channel and system call, each with its time span, CPU and faults; then the process's
  faults and RSS over the gap, and how regular the sampling was.  It answers ``ok`` on stdout
  when done, so the benchmark's own lines stay in order.
* ``{"quit": true}`` or end of input: exit.

Samples older than ``KEEP`` seconds (``$BLOBSCOPE_STALL_KEEP``, default 30) are dropped.  Reading ``wchan`` and ``syscall`` needs the
right to ptrace PID (the same user, and no Yama restriction beyond a parent); without it they
read as ``?``.
"""

from __future__ import annotations

import json
import os
import select
import sys
import time
from collections import deque

PERIOD = 0.001      # seconds between samples
KEEP = float(os.environ.get("BLOBSCOPE_STALL_KEEP", "30"))  # seconds of samples kept
RESCAN = 0.05       # seconds between looks for new threads
SYSCALLS = {0: "read", 1: "write", 3: "close", 7: "poll", 9: "mmap", 10: "mprotect", 11: "munmap",
            12: "brk", 23: "select", 25: "mremap", 28: "madvise", 35: "nanosleep", 61: "wait4",
            202: "futex", 217: "getdents64", 228: "clock_gettime", 230: "clock_nanosleep",
            232: "epoll_wait", 257: "openat", 262: "newfstatat", 270: "pselect6", 271: "ppoll",
            281: "epoll_pwait", 332: "statx", 441: "epoll_pwait2", 17: "pread64", 24: "sched_yield",
            46: "sendmsg", 47: "recvmsg", 56: "clone", 57: "fork", 58: "vfork", 59: "execve",
            435: "clone3", 22: "pipe", 293: "pipe2", 41: "socket", 42: "connect", 62: "kill"}


def _pread_big(fd: int) -> str:
    try:
        return os.pread(fd, 65536, 0).decode("ascii", "replace")
    except OSError:
        return ""


def _pread(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("ascii", "replace")
    except OSError:
        return ""


class Thread:
    """The open /proc files of one thread."""

    def __init__(self, pid: int, tid: int):
        base = f"/proc/{pid}/task/{tid}/"
        self.tid = tid
        try:  # what the thread calls itself: a QThread's object name, "Thread (pooled)", "python"
            with open(base + "comm") as f:
                self.comm = f.read().strip()
        except OSError:
            self.comm = "?"
        self.fds = {}
        for name in ("stat", "schedstat", "wchan", "syscall"):
            try:
                self.fds[name] = os.open(base + name, os.O_RDONLY)
            except OSError:
                self.fds[name] = -1

    def sample(self) -> tuple | None:
        """(state, minflt, majflt, utime+stime ticks, cpu ns, wchan, syscall) or None when gone."""
        stat = _pread(self.fds["stat"]) if self.fds["stat"] >= 0 else ""
        if not stat:
            return None
        rest = stat[stat.rindex(")") + 2:].split()
        # fields after the name: state(3) ppid pgrp session tty tpgid flags minflt(10) cminflt
        # majflt(12) cmajflt utime(14) stime(15)
        state, minflt, majflt = rest[0], int(rest[7]), int(rest[9])
        ticks = int(rest[11]) + int(rest[12])
        sched = _pread(self.fds["schedstat"]) if self.fds["schedstat"] >= 0 else ""
        cpu = int(sched.split()[0]) if sched else 0
        wchan = (_pread(self.fds["wchan"]) if self.fds["wchan"] >= 0 else "?") or "?"
        sc = (_pread(self.fds["syscall"]) if self.fds["syscall"] >= 0 else "?").split()
        call = sc[0] if sc else "?"
        if call.lstrip("-").isdigit():
            nr = int(call)
            call = "user" if nr < 0 else SYSCALLS.get(nr, f"sys{nr}")
        return state, minflt, majflt, ticks, cpu, wchan if wchan != "0" else "-", call

    def close(self) -> None:
        for fd in self.fds.values():
            if fd >= 0:
                os.close(fd)


class Sampler:
    def __init__(self, pid: int):
        self.pid = pid
        self.threads: dict[int, Thread] = {}
        self.samples: deque = deque()  # (t, {tid: sample}, (minflt, majflt, rss_kib))
        self.stat_fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        self.status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        self.machine_fd = os.open("/proc/stat", os.O_RDONLY)
        self.last_scan = 0.0
        # the process's children, each rescan: (t, {pid: comm}) when the set changed; a fork or
        # spawn of the big process (page tables copied, mmap_lock taken) shows up here
        self.children: deque = deque()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.own_cmdline = f.read(200).replace(b"\0", b" ").decode("ascii", "replace")[:120]
        self.cost = 0.0  # seconds spent sampling
        self.taken = 0

    def rescan(self) -> None:
        try:
            tids = {int(t) for t in os.listdir(f"/proc/{self.pid}/task")}
        except OSError:
            return
        for tid in list(self.threads):
            if tid not in tids:
                self.threads.pop(tid).close()
        for tid in tids - set(self.threads):
            self.threads[tid] = Thread(self.pid, tid)
        kids: set[int] = set()
        for tid in tids:
            try:
                with open(f"/proc/{self.pid}/task/{tid}/children") as f:
                    kids.update(int(k) for k in f.read().split())
            except OSError:
                pass
        named = {}
        for k in kids:  # read again each time: a child between fork (or vfork) and exec shows the
            try:        # window's own command line, then its own
                with open(f"/proc/{k}/cmdline", "rb") as f:
                    named[k] = f.read(200).replace(b"\0", b" ").decode("ascii", "replace")[:120]
            except OSError:
                named[k] = "?"
            if named[k] == self.own_cmdline:
                named[k] = "(not exec'd yet: a copy of the window) " + named[k]
        if not self.children or self.children[-1][1] != named:
            self.children.append((time.monotonic(), named))

    def sample(self) -> bool:
        t = time.monotonic()
        if t - self.last_scan > RESCAN:
            self.rescan()
            self.last_scan = t
        stat = _pread(self.stat_fd)
        if not stat:
            return False
        rest = stat[stat.rindex(")") + 2:].split()
        rss = 0
        for line in _pread(self.status_fd).splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
        # the machine: each core's busy and idle ticks, and how many tasks are runnable
        cores = []
        running = 0
        for line in _pread_big(self.machine_fd).splitlines():
            if line.startswith("cpu") and line[3:4].isdigit():
                f = [int(x) for x in line.split()[1:]]
                cores.append((f[0] + f[1] + f[2] + f[5] + f[6], f[3] + f[4], f[7]))  # busy, idle, steal
            elif line.startswith("procs_running"):
                running = int(line.split()[1])
        each = {}
        for tid, th in self.threads.items():
            s = th.sample()
            if s is not None:
                each[tid] = s
        self.samples.append((t, each, (int(rest[7]), int(rest[9]), rss), (tuple(cores), running)))
        while self.samples and self.samples[0][0] < t - KEEP:
            self.samples.popleft()
        self.cost += time.monotonic() - t
        self.taken += 1
        return True

    def report(self, t0: float, t1: float, label: str, names: dict[str, str], out) -> None:
        pad = 0.005
        got = [s for s in self.samples if t0 - pad <= s[0] <= t1 + pad]
        span = (t1 - t0) * 1e3
        if len(got) < 2:
            print(f"### {label}: gap {span:.0f} ms, no samples in it", file=out, flush=True)
            return
        steps = [b[0] - a[0] for a, b in zip(got, got[1:])]
        p0, p1 = got[0][2], got[-1][2]
        print(f"### {label}: gap {span:.0f} ms from monotonic {t0:.4f} ({len(got)} samples, longest between two "
              f"{max(steps) * 1e3:.1f} ms); process: minflt +{p1[0] - p0[0]}, majflt +{p1[1] - p0[1]}, "
              f"RSS {p0[2] / 1024:.0f} -> {p1[2] / 1024:.0f} MiB (min {min(s[2][2] for s in got) / 1024:.0f}, "
              f"max {max(s[2][2] for s in got) / 1024:.0f})", file=out)
        m0, m1 = got[0][3][0], got[-1][3][0]
        tick = 1e3 / os.sysconf("SC_CLK_TCK")
        print("  machine: " + ", ".join(
            f"core {i} busy {(b[0] - a[0]) * tick:.0f} ms idle {(b[1] - a[1]) * tick:.0f} ms steal {(b[2] - a[2]) * tick:.0f} ms"
            for i, (a, b) in enumerate(zip(m0, m1)))
            + f"; runnable tasks {min(s[3][1] for s in got)}-{max(s[3][1] for s in got)} "
              f"(mean {sum(s[3][1] for s in got) / len(got):.1f})", file=out)
        tids = sorted({tid for _t, each, _p, _m in got for tid in each})
        asleep = []
        for tid in tids:
            runs: list[list] = []  # [key, t_first, t_last, first sample, last sample, count]
            for t, each, _p, _m in got:
                s = each.get(tid)
                if s is None:
                    continue
                key = (s[0], s[5], s[6])
                if runs and runs[-1][0] == key:
                    runs[-1][2], runs[-1][4] = t, s
                    runs[-1][5] += 1
                else:
                    runs.append([key, t, t, s, s, 1])
            first, last = runs[0][3], runs[-1][4]
            cpu = (last[4] - first[4]) / 1e6
            flt = last[1] - first[1]
            th = self.threads.get(tid)
            name = names.get(str(tid)) or (th.comm if th is not None else "?")
            if cpu < 0.5 and flt == 0 and len(runs) == 1:  # asleep in one place through the gap
                asleep.append(f"{tid} {name} ({runs[0][0][0]} {runs[0][0][2]} {runs[0][0][1]})")
                continue
            print(f"  {tid} {name}: CPU {cpu:.1f} ms, minflt +{flt}, majflt +{last[2] - first[2]}", file=out)
            # merge short flickers for reading: print runs of >= 2 ms, and count the rest
            shown = 0
            for i, (key, ta, tb, sa, sb, _k) in enumerate(runs):
                nxt = runs[i + 1][1] if i + 1 < len(runs) else tb
                dur = (nxt - ta) * 1e3
                if dur < 2 and 0 < i < len(runs) - 1:
                    continue
                shown += 1
                if shown > 40:
                    print("    ...", file=out)
                    break
                print(f"    {(ta - t0) * 1e3:+7.1f} .. {(nxt - t0) * 1e3:+7.1f} ms  {key[0]} {key[2]:<10} "
                      f"{key[1]:<28} cpu {(sb[4] - sa[4]) / 1e6:5.1f} ms  minflt +{sb[1] - sa[1]}", file=out)
        if asleep:
            print("  asleep throughout: " + "; ".join(asleep), file=out)
        # the children before the gap, and each change of them until it ended (seen every RESCAN)
        before = [c for c in self.children if c[0] < t0 - pad]
        during = [c for c in self.children if t0 - pad <= c[0] <= t1 + pad]
        if before:
            print(f"  children at the gap's start: {sorted(before[-1][1].items())}", file=out)
        prev = before[-1][1] if before else {}
        for t, named in during:
            print(f"  children at {(t - t0) * 1e3:+.0f} ms: new or renamed "
                  f"{sorted((k, v) for k, v in named.items() if prev.get(k) != v)}, gone {sorted(set(prev) - set(named))}",
                  file=out)
            prev = named
        if not during:
            print("  no child process started or ended in the gap", file=out)
        print(f"  sampler: {self.taken} samples so far, {self.cost / max(1, self.taken) * 1e3:.2f} ms each",
              file=out, flush=True)


def main(argv: list[str]) -> int:
    pid = int(argv[0])
    sampler = Sampler(pid)
    stdin = sys.stdin.buffer
    buf = b""
    fd = stdin.fileno()
    while True:
        ready, _w, _x = select.select([fd], [], [], PERIOD)
        if not sampler.sample():
            return 0  # the process is gone
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return 0
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("quit"):
                return 0
            if "report" in msg:
                t0, t1 = msg["report"]
                sampler.report(t0, t1, msg.get("label", ""), msg.get("names", {}), sys.stderr)
                sys.stdout.write("ok\n")
                sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
