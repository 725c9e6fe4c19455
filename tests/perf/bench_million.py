"""The window on a million blobs: listing, filtering, sorting, deleting, memory, stalls.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_million.py [N ...]``
(default 100000 and 1000000; ``--listing`` stops after the listing, ``--in-process`` lists on the
scanner thread instead of a child process, ``--sample`` prints the GUI thread's stacks (sampled
from a watchdog thread) in every gap with over 40 ms of its own CPU, ``--trace=FILE`` writes every thread's stack there
whenever the GUI thread is 70 ms late: faulthandler reads the other threads' frames without the
GIL, which can crash the process, so it is for finding stalls, not for the figures, ``--gc`` prints
per phase the cyclic collections (``gc.callbacks``: generation, thread, duration) and, for the worst
gap, which collections fell in it and every thread's CPU in it (schedstat, with the machine's idle
and steal time), ``--switch=S`` sets the GIL's switch interval, ``--phases=sort`` runs only some of
filter,sort,delete after the listing, ``--stalls`` starts
``stall_sampler.py`` beside the window and prints, for each phase's worst gap, what every thread
was doing through it: state, wait channel, system call, faults) or ``pytest -m perf -s tests/perf/test_bench_million.py``
(sizes from BLOBSCOPE_BENCH_SIZES, e.g. ``100000,1000000``).

The store is built once per size and kept under ``$BLOBSCOPE_BENCH_CACHE`` (default
``~/.cache/blobscope-bench``): N tiny blobs written straight into containerd's layout
(``blobs/sha256/<hex>``, mode 0444, correct digests) and 1 % of them labelled
(``containerd.io/gc.root`` and a unique ``bench/index``).  What the Delete step removes is put
back afterwards, so the next run finds the same store.

Each figure is printed with its ratio to a floor measured in the same run (issue 12, design.md §8):

* fully listed: a bare ``os.scandir`` + ``stat`` of ``blobs/sha256`` plus reading every label;
* filter keystroke to updated view (after the typing delay), plain text and containerd syntax:
  a bare Python loop over the same rows (precomputed strings, one ``in`` / one regex search each);
* the longest GUI-thread stall, per phase: a 10 ms QTimer heartbeat's longest late beat.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

LABELLED = 0.01           # share of blobs with labels
DELETE = 100_000          # rows selected and deleted (capped at a tenth of the store)
GC_ROOT = "containerd.io/gc.root"


def cache_dir() -> Path:
    return Path(os.environ.get("BLOBSCOPE_BENCH_CACHE") or Path.home() / ".cache" / "blobscope-bench")


def blob(i: int) -> tuple[str, bytes]:
    data = b"blobscope bench %d\n" % i
    return hashlib.sha256(data).hexdigest(), data


def labels_of(i: int) -> dict[str, str]:
    return {GC_ROOT: "2026-12-01T00:00:00Z", "bench/index": str(i)}


def ensure_store(n: int) -> Path:
    """The cached store of ``n`` blobs (built, or repaired after a Delete step); its root."""
    root = cache_dir() / f"store-{n}" / "content"
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    present = set(os.listdir(blobs))
    labelled = max(1, int(n * LABELLED))
    missing_labels = []
    t = time.perf_counter()
    written = 0
    for i in range(n):
        hexd, data = blob(i)
        if hexd in present:
            continue
        fd = os.open(blobs / hexd, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        written += 1
        if i < labelled:
            missing_labels.append(i)
    db = root / "labels.db"
    if not db.exists():
        missing_labels = list(range(labelled))
    if missing_labels:
        from store import LocalStore
        LocalStore(root).labels.get("sha256:" + "0" * 64)  # the store creates its schema
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE IF NOT EXISTS labels (digest TEXT NOT NULL, key TEXT NOT NULL, "
                     "value TEXT NOT NULL, PRIMARY KEY (digest, key)) WITHOUT ROWID")
        with conn:
            conn.executemany("INSERT OR REPLACE INTO labels VALUES (?, ?, ?)", [
                ("sha256:" + blob(i)[0], k, v) for i in missing_labels for k, v in labels_of(i).items()])
        conn.close()
    if written:
        print(f"wrote {written} blobs and {len(missing_labels)} label sets in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    return root


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def floor_listing(root: Path) -> float:
    """A bare scandir + stat of blobs/sha256 and reading every label: what a listing cannot beat."""
    from store.labels import LabelStore
    t = time.perf_counter()
    FLOOR_CPU.append(-time.process_time())
    count = 0
    with os.scandir(root / "blobs" / "sha256") as it:
        for e in it:
            e.stat(follow_symlinks=False)
            count += 1
    LabelStore(root / "labels.db", read_only=True).all()
    FLOOR_CPU[-1] += time.process_time()
    return time.perf_counter() - t


FLOOR_CPU: list[float] = []  # CPU seconds of each floor listing (wall times swing with the machine's load)


def cpu_now() -> tuple[float, float, float]:
    """(this process's CPU, its waited-for children's CPU, the calling thread's CPU), seconds."""
    import resource
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), ch.ru_utime + ch.ru_stime, time.thread_time()


FILTERS = (("plain", "bench/index=1"), ("plain_digest", "abc"),
           ("syntax", 'labels."bench/index"~=^12'), ("syntax_digest", "digest~=^sha256:ab"))


def _floor_rows(root: Path) -> dict:
    """The filters' floors: a bare Python loop over the same rows (built first, not timed)."""
    from store import LocalStore
    rows = [(str(i.digest), i.labels) for i in LocalStore(root).walk()]
    haystacks = [(d + "\n" + ", ".join(f"{k}={v}" for k, v in sorted(lab.items()))).lower() for d, lab in rows]
    values = [lab.get("bench/index") for _d, lab in rows]
    rx12, rxab = re.compile("^12"), re.compile("^sha256:ab")
    loops = {
        "plain": lambda: [h for h in haystacks if "bench/index=1" in h],
        "plain_digest": lambda: [h for h in haystacks if "abc" in h],
        "syntax": lambda: [v for v in values if v is not None and rx12.search(v)],
        "syntax_digest": lambda: [d for d, _lab in rows if rxab.search(d)],
    }
    out = {}
    for name, loop in loops.items():
        best = None
        for _ in range(3):
            t = time.perf_counter()
            got = len(loop())
            took = time.perf_counter() - t
            best = took if best is None else min(best, took)
        out[name] = (best, got)
    return out


def filter_floors(root: Path) -> dict:
    import subprocess
    proc = subprocess.run([sys.executable, __file__, "--floors", str(root)], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout)


class Heartbeat:
    """A 10 ms QTimer; the longest late beat per phase is the longest GUI-thread stall."""

    def __init__(self, trace=None):
        from PySide6.QtCore import QElapsedTimer, QTimer
        self.trace = trace  # a file: every thread's stack is written there when a beat is 60 ms late
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last = 0
        self.worst = 0.0
        self.sched = _schedstat()
        self.worst_parts = (0.0, 0.0, 0.0)
        self.worst_cpu = 0.0  # the most CPU the GUI thread spent between two beats (our own longest step)
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._beat)
        self.timer.start()
        self.sampler = StackSampler(self) if OPTIONS["sample"] else None
        self.gclog = GcLog() if OPTIONS["gc"] else None
        self.phase_start = time.perf_counter()
        self.last_pc = time.perf_counter()
        self.worst_gap = (0.0, 0.0)
        self.phase_name = ""
        self.tasks = _task_cpu() if self.gclog is not None else None
        self.worst_tasks: dict = {}

    def _beat(self):
        now = self.clock.elapsed()
        # the same instant on the clock the outside sampler reads: taken after _schedstat (an
        # open and a read, each giving the GIL away) it once left a 110 ms wait out of the window
        pc = time.perf_counter()
        sched = _schedstat()
        late = now - self.last - 10
        self.worst_cpu = max(self.worst_cpu, (sched[0] - self.sched[0]) / 1e6)
        if self.sampler is not None:
            self.sampler.beat((sched[0] - self.sched[0]) / 1e6, now - self.last, (sched[1] - self.sched[1]) / 1e6)
        tasks = _task_cpu() if self.gclog is not None else None
        if late > self.worst:
            self.worst = late
            self.worst_gap = (self.last_pc, pc)
            if tasks is not None:  # what every other thread ran in the gap, ms
                self.worst_tasks = {t: round((v - self.tasks.get(t, 0)) / 1e6, 1) for t, v in tasks.items()
                                    if v - self.tasks.get(t, 0) > 500_000}
            # where the gap went, from the kernel's per-thread figures: the GUI thread's own CPU,
            # its time runnable but waiting for a core (the machine's load), and the rest blocked
            # (the GIL held by another thread, a lock); each in ms
            run = (sched[0] - self.sched[0]) / 1e6
            queued = (sched[1] - self.sched[1]) / 1e6
            self.worst_parts = (round(run, 1), round(queued, 1), round(max(0.0, now - self.last - run - queued), 1))
        self.tasks = tasks
        self.sched = sched
        self.last = now
        self.last_pc = pc
        if self.trace is not None:
            # re-armed on every beat: it fires (from faulthandler's own C thread, no GIL needed)
            # only when the GUI thread did not come back within 70 ms, and shows what every thread was doing
            self.trace.write(f"--- beat at {now} ms\n".encode())
            faulthandler.dump_traceback_later(0.07, file=self.trace)

    def phase(self, name: str = "") -> None:
        if self.sampler is not None:
            self.sampler.phase_name = name
            self.sampler.samples = []
            self.sampler.last = time.monotonic()
        self.last = self.clock.elapsed()
        self.last_pc = self.phase_start = time.perf_counter()
        self.phase_name = name
        self.worst_gap = (0.0, 0.0)
        self.worst_tasks = {}
        self.tasks = _task_cpu() if self.gclog is not None else None
        self.sched = _schedstat()
        self.worst = 0.0
        self.worst_parts = (0.0, 0.0, 0.0)
        self.worst_cpu = 0.0

    def stop(self) -> float:
        STALL_PARTS.append(self.worst_parts + (round(self.worst_cpu, 1),))
        if OPTIONS["stalls"] is not None and self.worst_gap[1]:
            OPTIONS["stalls"].report(self.worst_gap, f"{self.phase_name} worst gap {self.worst:.0f} ms late, "
                                     f"(own CPU, waiting for a core, blocked) {self.worst_parts}")
        if self.gclog is not None:
            self.gclog.report(self.phase_name, self.phase_start, self.worst_gap)
            print(f"  threads' CPU in that gap (ms, by native id): {self.worst_tasks}", file=sys.stderr, flush=True)
        return round(self.worst, 1)


class StackSampler:
    """``--sample``: a watchdog thread that, while the heartbeat is over 25 ms late, takes the GUI
    thread's stack every 5 ms (``sys._current_frames``; it needs the GIL, so a sample lands at the
    GUI thread's next switch point); a gap with over 40 ms of the GUI thread's own CPU has its
    samples printed (to stderr, innermost frame first) when the beat comes back, and so has a gap of
over 100 ms, with the other threads' stacks."""

    def __init__(self, beat: "Heartbeat"):
        import threading
        self.gui = threading.get_ident()
        self.last = time.monotonic()
        self.samples: list[tuple[str, ...]] = []
        self.others: list[tuple[str, ...]] = []  # the other threads' stacks in the same gap
        self.phase_name = "listing"
        threading.Thread(target=self._watch, name="bench-sampler", daemon=True).start()

    def _watch(self) -> None:
        import threading
        import traceback
        while True:
            time.sleep(0.005)
            if time.monotonic() - self.last > 0.025:
                frames = sys._current_frames()
                frame = frames.get(self.gui)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-9:]
                    self.samples.append(tuple(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack))
                # the other threads too: the one that held the GIL has just let go of it
                names = {t.ident: t.name for t in threading.enumerate()}
                for ident, other in frames.items():
                    if ident not in (self.gui, threading.get_ident()):
                        top = traceback.extract_stack(other)[-4:]
                        self.others.append((names.get(ident, str(ident)),) + tuple(
                            f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in top))

    def beat(self, cpu_ms: float, gap_ms: float, queued_ms: float) -> None:
        samples, self.samples = self.samples, []
        others, self.others = self.others, []
        self.last = time.monotonic()
        if (cpu_ms > 40 or gap_ms > 100) and samples:
            from collections import Counter
            print(f"=== {self.phase_name}: gap {gap_ms:.0f} ms, own CPU {cpu_ms:.0f} ms, waiting for a core "
                  f"{queued_ms:.0f} ms, {len(samples)} samples",
                  file=sys.stderr)
            for stack, k in Counter(samples).most_common(5):
                print(f"  {k} x", " <- ".join(reversed(stack)), file=sys.stderr)
            for stack, k in Counter(others).most_common(6):
                print(f"  other {k} x {stack[0]}:", " <- ".join(reversed(stack[1:])), file=sys.stderr)
            sys.stderr.flush()


class OutsideSampler:
    """``--stalls``: ``stall_sampler.py`` in a child process (it starts no thread here, and reads
    this process's ``/proc`` every millisecond from outside, so it sees what the GIL and page
    faults hide from a thread inside); :meth:`report` has it print a gap's timeline."""

    def __init__(self):
        import subprocess
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("stall_sampler.py")),
                                      str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def report(self, gap: tuple[float, float], label: str) -> None:
        import threading
        names = {str(t.native_id): t.name for t in threading.enumerate()}
        sys.stderr.flush()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"report": list(gap), "label": label, "names": names}) + "\n").encode())
        self.proc.stdin.flush()
        self.proc.stdout.readline()  # "ok": its lines are out before ours go on

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


# of each phase's worst gap: (own CPU, waiting for a core, blocked), and the most own CPU in any gap
STALL_PARTS: list[tuple[float, ...]] = []


def _task_cpu() -> dict[int, int]:
    """Every thread of this process: its time on a CPU so far, ns (Linux schedstat); and, under
    the keys -1 and -2, the machine's idle and steal (a hypervisor's) time, ns."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    tick = 1e9 / os.sysconf("SC_CLK_TCK")
    out = {-1: int(int(fields[4]) * tick), -2: int(int(fields[8]) * tick)}
    for t in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{t}/schedstat") as f:
                out[int(t)] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def _schedstat() -> tuple[int, int]:
    """The calling thread's time on a CPU and time runnable on a run queue, ns (Linux schedstat)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            run, wait, _slices = f.read().split()
        return int(run), int(wait)
    except OSError:
        return 0, 0


def spin(app, until, timeout: float) -> bool:
    """Run the event loop until ``until()`` or ``timeout`` seconds: Qt's own loop (``QEventLoop``,
    as the application's ``exec``), asking ``until`` every 5 ms from a timer.

    Before 2026-12-08 this was a Python loop (``processEvents`` and a 1 ms ``sleep``): it took the
    GIL back every millisecond, and with a worker busy in Python each take waited up to the 5 ms
    switch interval, so the heartbeat was late 50-170 ms ("blocked") in a way the application's
    ``exec`` is not; ``--spin-python`` keeps that loop, for comparison."""
    deadline = time.perf_counter() + timeout
    if OPTIONS["spin_python"]:
        while not until():
            if time.perf_counter() > deadline:
                return False
            app.processEvents()
            time.sleep(0.001)
        return True
    from PySide6.QtCore import QEventLoop, QTimer
    if until():
        return True
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(5)

    def check() -> None:
        if until() or time.perf_counter() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    return bool(until())


OPTIONS: dict = {"in_process": False, "trace": None, "sample": False, "gc": False, "spin_python": False,
                 "stalls": None, "phases": ["filter", "sort", "delete"]}


class GcLog:
    """``--gc``: every cyclic-GC collection (``gc.callbacks``): its generation, thread, start and
    duration (perf_counter), and the objects it collected; per phase, the collections that fell in
    the phase's worst GUI-thread gap are printed to stderr."""

    def __init__(self):
        import gc
        import threading
        self.events: list[tuple[int, str, float, float, int]] = []
        self.open: dict[int, float] = {}
        self._threading = threading
        gc.callbacks.append(self._cb)

    def _cb(self, phase: str, info: dict) -> None:
        ident = self._threading.get_ident()
        if phase == "start":
            self.open[ident] = time.perf_counter()
            return
        t0 = self.open.pop(ident, None)
        if t0 is not None:
            self.events.append((info["generation"], self._threading.current_thread().name, t0,
                                time.perf_counter() - t0, info.get("collected", 0)))

    def report(self, name: str, since: float, gap: tuple[float, float]) -> None:
        mine = [e for e in self.events if e[2] >= since]
        in_gap = [e for e in mine if e[2] < gap[1] and e[2] + e[3] > gap[0]]
        gen2 = [e for e in mine if e[0] == 2]
        print(f"gc {name}: {len(mine)} collections ({len(gen2)} gen2, longest "
              f"{max((e[3] for e in mine), default=0) * 1e3:.0f} ms, total {sum(e[3] for e in mine) * 1e3:.0f} ms); "
              f"in the worst gap ({(gap[1] - gap[0]) * 1e3:.0f} ms): "
              + (", ".join(f"gen{g} on {t} {d * 1e3:.0f} ms" for g, t, _s, d, _c in in_gap) or "none")
              + "; threads " + ", ".join(f"{t.native_id}={t.name}" for t in self._threading.enumerate()),
              file=sys.stderr, flush=True)


def measure(root: Path, n: int, listing_only: bool = False) -> dict:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.blobs.blob_model import COL_DIGEST, COL_SIZE
    from gui.context import AppContext
    from gui.main_window import FILTER_DELAY_MS, MainWindow
    from tests.gui.conftest import ScriptedDialogs

    result: dict = {"blobs": n}
    FLOOR_CPU.clear()
    floors = [floor_listing(root) for _ in range(2)]
    result["floor_listing_s"] = round(min(floors), 3)
    result["floor_listing_cpu_s"] = round(min(FLOOR_CPU), 3)

    app = QApplication.instance() or QApplication([])
    rss_before = rss_mib()
    settings = QSettings(str(root.parent / "bench-settings.ini"), QSettings.Format.IniFormat)
    dialogs = ScriptedDialogs()
    window = MainWindow(AppContext(settings=settings, dialogs=dialogs))
    window.resize(1280, 800)
    # media types and the graph are other benchmarks (bench_million_graph.py): the timer is
    # started with an interval of its own after a listing, so switch its slot off
    window.classify_timer.timeout.disconnect()
    if OPTIONS["in_process"]:
        window.scanner.worker.child = False  # the listing on the scanner thread, as before the child process
    result["listing_in"] = "process" if OPTIONS["in_process"] else "child"
    model = window.blob_model
    marks: dict[str, float] = {}
    model.rowsInserted.connect(lambda *a: marks.setdefault("first_rows", time.perf_counter()))
    window.scanFinished.connect(lambda: marks.setdefault("full", time.perf_counter()))
    window.show()
    app.processEvents()
    beat = Heartbeat(open(OPTIONS["trace"], "wb", buffering=0) if OPTIONS["trace"] else None)

    # ---- listing
    beat.phase("stall_listing")
    t0 = time.perf_counter()
    cpu0 = cpu_now()
    window.open_store(str(root))
    assert spin(app, lambda: "full" in marks, 600), "the listing did not finish"
    # the phase ends here: the sleep below is the benchmark's, not a stall (it was counted as one,
    # 200 ms "blocked", before 2026-12-07 23:20)
    result["stall_listing_ms"] = beat.stop()
    result["stall_listing_parts_cpu_queue_blocked_maxcpu"] = STALL_PARTS[-1]
    time.sleep(0.2)  # the listing's child has exited: its CPU is counted once it is waited for
    cpu1 = cpu_now()
    result["listing_cpu_gui_process_s"] = round(cpu1[0] - cpu0[0], 3)
    result["listing_cpu_child_s"] = round(cpu1[1] - cpu0[1], 3)
    result["listing_cpu_gui_thread_s"] = round(cpu1[2] - cpu0[2], 3)
    result["listing_cpu_vs_floor_cpu"] = round((cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) / result["floor_listing_cpu_s"], 2)
    app.processEvents()
    result["first_rows_s"] = round(marks["first_rows"] - t0, 3)
    result["fully_listed_s"] = round(marks["full"] - t0, 3)
    result["fully_listed_vs_floor"] = round(result["fully_listed_s"] / result["floor_listing_s"], 2)
    assert model.total_count == n, model.total_count
    result["rss_listed_mib"] = round(rss_mib(), 1)
    # the watch sees the listing's own label read (labels.db-wal) and rescans once: let it land
    t = time.perf_counter()
    spin(app, lambda: not window.scanner.busy and not window._dirty, 600)
    spin(app, lambda: False, 0.5)
    spin(app, lambda: not window.scanner.busy, 600)
    result["rescan_after_listing_s"] = round(time.perf_counter() - t, 3)
    result["rss_after_rescan_mib"] = round(rss_mib(), 1)
    result["columns_bytes_per_row"] = round(model.columns.nbytes() / n, 1)
    if listing_only:
        window.close()
        app.processEvents()
        return result

    # ---- filtering: keystroke (through the typing delay) to the updated view
    floors = filter_floors(root) if "filter" in OPTIONS["phases"] else {}  # in a child process: its rows never weigh on this one's RSS

    def keystroke(text: str) -> tuple[float, int]:
        applied = []
        model.modelReset.connect(lambda: applied.append(time.perf_counter()))
        t = time.perf_counter()
        window.filter_edit.setText(text)
        assert spin(app, lambda: applied and not model.busy, 120), text
        window.blob_view.viewport().repaint()
        model.modelReset.disconnect()
        model.modelReset.connect(window._on_totals)
        model.modelReset.connect(window.update_actions)
        return time.perf_counter() - t - FILTER_DELAY_MS / 1000, model.rowCount()

    for name, text in FILTERS if "filter" in OPTIONS["phases"] else ():
        beat.phase(f"stall_filter_{name}")
        took, rows = keystroke(text)
        floor_s, want = floors[name]
        result[f"filter_{name}_s"] = round(took, 3)
        result[f"filter_{name}_floor_s"] = round(floor_s, 3)
        result[f"filter_{name}_vs_floor"] = round(took / floor_s, 2)
        result[f"filter_{name}_rows"] = rows
        result[f"stall_filter_{name}_ms"] = beat.stop()
        result[f"stall_filter_{name}_parts_cpu_queue_blocked_maxcpu"] = STALL_PARTS[-1]
        assert rows == want, (name, rows, want)
    if "filter" in OPTIONS["phases"]:
        beat.phase("stall_filter_clear")
        keystroke("")
        result["stall_filter_clear_ms"] = beat.stop()
        result["stall_filter_clear_parts_cpu_queue_blocked_maxcpu"] = STALL_PARTS[-1]
    result["rss_filtered_mib"] = round(rss_mib(), 1)

    # ---- sorting: the click on the header to the new order in the view
    for name, col in (("size", COL_SIZE), ("digest", COL_DIGEST)) if "sort" in OPTIONS["phases"] else ():
        beat.phase(f"stall_sort_{name}")
        t = time.perf_counter()
        window.blob_view.sortByColumn(col, window.blob_view.horizontalHeader().sortIndicatorOrder())
        assert spin(app, lambda: not model.busy, 300)
        window.blob_view.viewport().repaint()
        result[f"sort_{name}_s"] = round(time.perf_counter() - t, 3)
        result[f"stall_sort_{name}_ms"] = beat.stop()
        result[f"stall_sort_{name}_parts_cpu_queue_blocked_maxcpu"] = STALL_PARTS[-1]
    window.blob_view.sortByColumn(-1, window.blob_view.horizontalHeader().sortIndicatorOrder())
    spin(app, lambda: not model.busy, 300)
    result["rss_sorted_mib"] = round(rss_mib(), 1)

    # ---- Delete of many selected rows (put back afterwards by ensure_store)
    if "delete" not in OPTIONS["phases"]:
        window.close()
        app.processEvents()
        return result
    k = min(DELETE, n // 10)
    beat.phase("stall_select")
    t = time.perf_counter()
    window.selection.select_blob_rows(list(range(k)))
    app.processEvents()
    result["select_rows"] = window.selection.blob_count()
    result["select_s"] = round(time.perf_counter() - t, 3)
    result["stall_select_ms"] = beat.stop()
    result["stall_select_parts_cpu_queue_blocked_maxcpu"] = STALL_PARTS[-1]
    dialogs.answer("confirm", True)
    removed_at: list[float] = []
    deleting = [0.0]
    window.runner.jobFinished.connect(lambda name: deleting.__setitem__(0, time.perf_counter())
                                      if name == "delete" else None)
    model.totalsChanged.connect(lambda: removed_at.append(time.perf_counter() - deleting[0])
                                if deleting[0] and model.total_count == n - k and not removed_at else None)
    beat.phase("stall_delete")
    t = time.perf_counter()
    window.action_map["actionDelete"].trigger()
    assert spin(app, lambda: model.total_count == n - k, 900), model.total_count
    window.blob_view.viewport().repaint()
    result["delete_s"] = round(time.perf_counter() - t, 3)
    result["delete_model_update_ms"] = round(removed_at[0] * 1000, 1) if removed_at else None
    result["stall_delete_ms"] = beat.stop()
    result["stall_delete_parts_cpu_queue_blocked_maxcpu"] = STALL_PARTS[-1]
    result["delete_rows"] = k

    result["load_average"] = os.getloadavg()[0]
    result["rss_mib"] = round(rss_mib(), 1)
    result["rss_peak_mib"] = round(peak_rss_mib(), 1)
    result["rss_growth_mib"] = round(rss_mib() - rss_before, 1)
    window.close()
    app.processEvents()
    return result


def run(n: int, listing_only: bool = False) -> dict:
    t = time.perf_counter()
    root = ensure_store(n)
    build_s = time.perf_counter() - t
    from store import LocalStore
    sum(1 for _ in LocalStore(root).walk())  # a warm page cache, as when a store is opened again
    result = measure(root, n, listing_only)
    result["store_ready_s"] = round(build_s, 1)
    ensure_store(n)  # put back what Delete removed
    out = _REPO / "tests" / "_artifacts"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench_million_{n}.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["--floors"]:
        print(json.dumps(_floor_rows(Path(argv[1]))))
        return 0
    listing_only = "--listing" in argv  # only open the store and list it (quick, while tuning)
    OPTIONS["in_process"] = "--in-process" in argv  # list on the scanner thread, not in a child process
    OPTIONS["spin_python"] = "--spin-python" in argv  # the benchmark's event loop in Python, as before 2026-12-08
    OPTIONS["gc"] = "--gc" in argv  # print the cyclic GC's collections of each phase and its worst gap
    OPTIONS["sample"] = "--sample" in argv  # print the GUI thread's stacks in gaps of over 40 ms of its own CPU
    for a in argv:
        if a.startswith("--phases="):  # some of filter,sort,delete (after the listing); all by default
            OPTIONS["phases"] = a.split("=", 1)[1].split(",")
        if a.startswith("--switch="):  # the GIL's switch interval (s) for this run
            sys.setswitchinterval(float(a.split("=", 1)[1]))
        if a.startswith("--trace="):  # where the stacks of stalls over 70 ms go
            OPTIONS["trace"] = a.split("=", 1)[1]
    if "--stalls" in argv:  # an outside sampler of every thread's state through each phase's worst gap
        OPTIONS["stalls"] = OutsideSampler()
    sizes = [int(a) for a in argv if not a.startswith("--")] or [100_000, 1_000_000]
    for n in sizes:
        print(json.dumps(run(n, listing_only), indent=2), flush=True)
    if OPTIONS["stalls"] is not None:
        OPTIONS["stalls"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
