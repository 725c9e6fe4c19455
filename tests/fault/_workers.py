"""Bodies of the processes the fault suites start (importable, so multiprocessing's spawn can run them)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

LABEL_BATCH = 50  # label edits gathered into one labels.db transaction by the storm


def same_content_rounds(root: str, me: int, rounds: int, size: int, barrier, results) -> None:
    """Each round: write the round's content under my own ref, meet the others, commit at once."""
    from store import Digest, LocalStore, errors
    store = LocalStore(root)
    for r in range(rounds):
        data = random.Random(r).randbytes(size)
        expected = Digest.from_bytes(data)
        w = store.writer(f"round-{r}-proc-{me}", total=size)
        w.write(data)
        barrier.wait()
        try:
            d = w.commit(size, expected)
            outcome = "won" if d == expected else f"wrong digest {d}"
        except errors.AlreadyExists:
            outcome = "already-exists"
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome = f"{type(exc).__name__}: {exc}"
        results.put((r, me, outcome))
        barrier.wait()


def one_ref_contender(root: str, me: int, ref: str, barrier, results, hold_s: float) -> None:
    """Try to take ``ref``; the holder writes its own byte pattern slowly, then commits."""
    from store import LocalStore, errors
    store = LocalStore(root)
    barrier.wait()
    try:
        w = store.writer(ref)
    except errors.Unavailable as exc:
        results.put((me, "unavailable", str(exc)))
        return
    except Exception as exc:  # noqa: BLE001
        results.put((me, "error", f"{type(exc).__name__}: {exc}"))
        return
    end = time.monotonic() + hold_s
    chunk = bytes([65 + me]) * 4096
    n = 0
    while time.monotonic() < end:
        w.write(chunk)
        n += 1
        time.sleep(0.005)
    d = w.commit()
    results.put((me, "held", f"{d} {n}"))


def mutator(root: str, seconds: float, counts, stop_file: str) -> None:
    """Import, delete, abort, label as fast as possible for ``seconds``; count each kind of operation."""
    from store import Digest, LocalStore, errors
    from store.types import Info
    rng = random.Random(os.getpid())
    store = LocalStore(root)
    done = {"import": 0, "delete": 0, "abort": 0, "label": 0, "ingest_left": 0, "errors": 0}
    present: list[Digest] = [i.digest for i in store.walk()]
    counts["ready"] = True
    while not os.path.exists(stop_file + ".go"):  # the test starts its clock first
        time.sleep(0.01)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end and not os.path.exists(stop_file):
        i += 1
        op = rng.random()
        try:
            if op < 0.35:
                data = f"mutator {os.getpid()} {i} ".encode() * rng.randint(1, 2000)
                with store.writer(f"mut-{i}", total=len(data)) as w:
                    w.write(data)
                    d = w.commit(len(data), labels={"i": str(i)} if i % 3 == 0 else None)
                present.append(d)
                done["import"] += 1
            elif op < 0.6 and present:
                d = present.pop(rng.randrange(len(present)))
                store.delete(d)
                done["delete"] += 1
            elif op < 0.85:
                ref = f"mut-abort-{i}"
                with store.writer(ref, total=10_000) as w:
                    w.write(b"x" * rng.randint(0, 5000))
                if rng.random() < 0.7:
                    store.abort(ref)
                    done["abort"] += 1
                else:
                    done["ingest_left"] += 1
            elif present:
                d = rng.choice(present)
                info = store.info(d)
                store.update(Info(d, 0, info.created_at, info.updated_at, {"touched": str(i)}), "labels.touched")
                done["label"] += 1
        except errors.ContentError:
            done["errors"] += 1
    counts.update(done)


def ingest_grower(root: str, refs: list[str], seconds: float, chunk: int, stop_file: str, counts) -> None:
    """Append ``chunk`` bytes to the data file of every ingest in turn, as running pulls would."""
    from store.ingest import ref_hash
    fds = [os.open(os.path.join(root, "ingest", ref_hash(r), "data"), os.O_WRONLY | os.O_APPEND) for r in refs]
    block = b"g" * chunk
    counts["ready"] = True
    while not os.path.exists(stop_file + ".go"):  # the test starts its clock first
        time.sleep(0.01)
    rounds = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end and not os.path.exists(stop_file):
            for fd in fds:
                os.write(fd, block)
            rounds += 1
            time.sleep(0.05)
    finally:
        for fd in fds:
            os.close(fd)
    counts["rounds"] = rounds


def storm(root: str, bursts: int, per_burst: int, rate: float, go, done, counts) -> None:
    """Bursts of outside changes at up to ``rate`` a second, the way a busy node makes them.

    Lean, so that one process can keep 1k changes a second on a small machine: no fsync per
    change (containerd's rename-into-place and ``os.unlink`` of a blob, an ingest directory
    written file by file and removed), label edits gathered into one labels.db transaction
    every ``LABEL_BATCH`` edits or 20 ms (``LabelStore.update_many``, as a tool relabelling
    many blobs does); a few of each kind go through the library one by one (``writer`` and
    ``commit``, ``delete``, ``update``, ``abort``) so those paths are in the storm too.
    After each burst it sets ``done`` and waits for ``go`` (the test compares view and disk);
    ``counts`` gets each kind's tally and the seconds the bursts took, for the achieved rate.
    """
    import hashlib
    import shutil

    from store import LocalStore, errors
    from store.ingest import ref_hash, write_plain, write_timestamp
    from store.labels import LabelStore
    from store.types import Info
    stamp = time.time_ns()  # refs of this run's ingests never meet an earlier run's
    rng = random.Random(os.getpid())
    store = LocalStore(root)
    labels = LabelStore(os.path.join(root, "labels.db"))
    sha = os.path.join(root, "blobs", "sha256")
    ingest = os.path.join(root, "ingest")
    tmp = os.path.join(root, "storm-tmp")
    os.makedirs(tmp, exist_ok=True)
    present = [str(i.digest) for i in store.walk()]
    open_ingests: list[tuple[str, int]] = []  # (directory, data fd) of ingests being written
    left: list[str] = []  # directories of ingests left on disk by an earlier burst
    edits: dict[str, dict[str, str]] = {}
    tally = {"commit": 0, "rename_commit": 0, "delete": 0, "unlink_delete": 0, "label": 0,
             "label_batched": 0, "label_batches": 0, "ingest_start": 0, "ingest_grow": 0,
             "ingest_abort": 0, "errors": 0}

    def flush() -> None:
        if edits:
            labels.update_many(edits)
            edits.clear()
            tally["label_batches"] += 1

    def start_ingest(i: int) -> None:
        # containerd's writer: the directory, ref, startedat, updatedat, total, then data
        ref = f"storm-ingest-{os.getpid()}-{stamp}-{i}"
        d = os.path.join(ingest, ref_hash(ref))
        os.mkdir(d)
        now = time.time_ns()
        write_plain(Path(d) / "ref", ref.encode())
        write_timestamp(Path(d) / "startedat", now)
        write_timestamp(Path(d) / "updatedat", now)
        write_plain(Path(d) / "total", b"1048576")
        fd = os.open(os.path.join(d, "data"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(fd, b"s" * rng.randint(0, 4096))
        open_ingests.append((d, fd))

    counts["ready"] = True
    i = 0
    for burst in range(bursts):
        go.wait()
        go.clear()
        start = last_flush = time.monotonic()
        for k in range(per_burst):
            i += 1
            op = rng.random()
            try:
                if op < 0.02:
                    data = b"storm commit %d %d" % (os.getpid(), i)
                    with store.writer(f"storm-{i}", total=len(data)) as w:
                        w.write(data)
                        d = w.commit(len(data), labels={"i": str(i)} if i % 2 else None)
                    present.append(str(d))
                    tally["commit"] += 1
                elif op < 0.35:  # the way containerd commits: written aside, renamed in, no fsync here
                    data = b"storm rename %d %d " % (os.getpid(), i) * rng.randint(1, 40)
                    hexd = hashlib.sha256(data).hexdigest()
                    t = os.path.join(tmp, hexd)
                    fd = os.open(t, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
                    os.write(fd, data)
                    os.close(fd)
                    os.rename(t, os.path.join(sha, hexd))
                    present.append("sha256:" + hexd)
                    tally["rename_commit"] += 1
                elif op < 0.37 and present:
                    d = present.pop(rng.randrange(len(present)))
                    edits.pop(d, None)
                    store.delete(d)
                    tally["delete"] += 1
                elif op < 0.60 and present:  # containerd's Delete: the file goes, labels.db untouched
                    d = present.pop(rng.randrange(len(present)))
                    os.unlink(os.path.join(sha, d.split(":", 1)[1]))
                    tally["unlink_delete"] += 1
                elif op < 0.62 and present:
                    d = rng.choice(present)
                    info = store.info(d)
                    store.update(Info(d, 0, info.created_at, info.updated_at, {"touched": str(i)}), "labels.touched")
                    tally["label"] += 1
                elif op < 0.82 and present:
                    edits.setdefault(rng.choice(present), {}).update({"sqlite": str(i), "gone": ""})
                    tally["label_batched"] += 1
                elif op < 0.91 or not open_ingests:
                    start_ingest(i)
                    tally["ingest_start"] += 1
                elif op < 0.96:
                    os.write(rng.choice(open_ingests)[1], b"g" * 4096)
                    tally["ingest_grow"] += 1
                elif left and rng.random() < 0.5:
                    store.abort(open(os.path.join(left.pop(rng.randrange(len(left))), "ref")).read())
                    tally["ingest_abort"] += 1
                else:
                    d, fd = open_ingests.pop(rng.randrange(len(open_ingests)))
                    os.close(fd)
                    shutil.rmtree(d)
                    tally["ingest_abort"] += 1
            except errors.ContentError:
                tally["errors"] += 1
            now = time.monotonic()
            if len(edits) >= LABEL_BATCH or (edits and now - last_flush > 0.02):
                flush()
                last_flush = now
            behind = start + (k + 1) / rate - now
            if behind > 0.002:  # sleep in steps of a few changes: a sleep per change costs its own overshoot
                time.sleep(behind)
        flush()
        for d, fd in open_ingests:  # interrupted, as a killed pull leaves them: the offsets are final
            left.append(d)
            os.close(fd)
        open_ingests = []
        seconds = time.monotonic() - start
        counts.update(tally)
        counts["changes"] = sum(v for n, v in tally.items() if n not in ("label_batches", "errors"))
        counts["burst"] = burst + 1
        counts["burst_s"] = counts.get("burst_s", 0.0) + seconds
        counts["slowest_burst_rate"] = min(counts.get("slowest_burst_rate", float("inf")), per_burst / seconds)
        done.set()
    counts["finished"] = True
