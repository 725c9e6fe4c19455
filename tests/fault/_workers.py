"""Bodies of the processes the fault suites start (importable, so multiprocessing's spawn can run them)."""

from __future__ import annotations

import os
import random
import time


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
