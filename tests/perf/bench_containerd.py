#!/usr/bin/env python3
"""ContainerdStore against ``ctr`` on the same private daemon, in one run.

    python tests/perf/bench_containerd.py [--blobs 10000] [--mb 500] [--runs 2]

Prints one ``key=value`` line per measurement and a ratio table at the end:

* **list**: ``list(ContainerdStore.walk())`` over a namespace of N blobs vs ``ctr content ls``
  (and ``ls -q``) writing to a pipe; the daemon's List is the same call, so this measures the
  client side (protobuf decoding into ``Info`` vs ctr's table printing).
* **write**: ``ContainerdStore.import_file`` of an MB-MB random file (lease, 4 MiB chunks, commit
  with ``gc.root``) vs ``ctr content ingest --expected-size --expected-digest < file``.  Before
  each run the blob is deleted and the file waited out of ``blobs/`` (otherwise the daemon
  would find it and finish at once; research B.3).
* **read**: the blob streamed through ``ContainerdReaderAt.chunks()`` (and with sha256) vs
  ``ctr content get > /dev/null``.

The daemon is Debian's containerd on a private root (tests/support/containerd.py), never
the machine's.  Nothing asserts a timing; a run fails only when a count or digest is wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store import Digest  # noqa: E402
from store.containerd import ContainerdStore  # noqa: E402
from tests.support.containerd import ContainerdDaemon  # noqa: E402

NS = "bench"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def populate(store: ContainerdStore, count: int) -> set[Digest]:
    """``count`` small labelled blobs, all under one lease (one Write stream each)."""
    lease = store.create_lease()
    leased = store.with_lease(lease)
    t = time.perf_counter()

    def one(i: int) -> Digest:
        data = f"bench blob {i:08d} ".encode() * 8
        with leased.writer(f"p{i}", total=len(data)) as w:
            w.write(data)
            return w.commit(len(data), labels={"bench.index": str(i)})

    try:
        # Each commit costs the daemon two bolt transactions and fsyncs; overlap them.
        with ThreadPoolExecutor(8) as pool:
            digests = set(pool.map(one, range(count)))
    finally:
        store.delete_lease(lease)
    emit(populate_blobs=count, populate_s=time.perf_counter() - t)
    return digests


def wait_gone(daemon: ContainerdDaemon, digest: Digest, timeout: float = 60.0) -> None:
    path = daemon.content_root / "blobs" / digest.algorithm / digest.encoded
    deadline = time.monotonic() + timeout
    while path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} still there {timeout} s after its delete")
        time.sleep(0.05)


def remove(daemon: ContainerdDaemon, store: ContainerdStore, digest: Digest) -> None:
    daemon.ctr("content", "rm", digest, namespace=NS)  # NotFound is skipped, like ctr does
    wait_gone(daemon, digest)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blobs", type=int, default=10_000)
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args(argv)
    emit(load=" ".join(Path("/proc/loadavg").read_text().split()[:3]).replace(" ", "/"), cpus=os.cpu_count())

    with tempfile.TemporaryDirectory(prefix="blobscope-bench-ctrd-") as tmp, ContainerdDaemon(tmp) as daemon:
        store = ContainerdStore(daemon.address, NS)
        ratios = {}

        # -- list ------------------------------------------------------------------------
        digests = populate(store, args.blobs)
        listed = {i.digest for i in store.walk()}
        if listed != digests:
            raise AssertionError(f"walk listed {len(listed)} blobs, {len(digests)} were written")
        ctr_q = set(daemon.ctr("content", "ls", "-q", namespace=NS).stdout.split())
        if ctr_q != digests:
            raise AssertionError(f"ctr listed {len(ctr_q)} blobs, {len(digests)} were written")
        ours = best(lambda: list(store.walk()), args.runs + 1)
        ls = best(lambda: subprocess.run(daemon.ctr_argv("content", "ls", namespace=NS),
                                         stdout=subprocess.PIPE, check=True), args.runs + 1)
        ls_q = best(lambda: subprocess.run(daemon.ctr_argv("content", "ls", "-q", namespace=NS),
                                           stdout=subprocess.PIPE, check=True), args.runs + 1)
        emit(list_blobs=len(digests), walk_s=ours, ctr_ls_s=ls, ctr_ls_q_s=ls_q)
        ratios["list: ctr content ls / walk"] = ls / ours

        # -- write -----------------------------------------------------------------------
        src = Path(tmp, "blob.bin")
        with open(src, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1 << 20))
        size = src.stat().st_size
        h = hashlib.sha256()
        with open(src, "rb") as f:
            for chunk in iter(lambda: f.read(8 << 20), b""):
                h.update(chunk)
        digest = Digest.from_hasher(h)

        w_ours, w_ctr = [], []
        for _ in range(args.runs):
            subprocess.run(["sync"], check=True)
            t = time.perf_counter()
            info = store.import_file(src)
            w_ours.append(time.perf_counter() - t)
            if info.digest != digest or info.size != size:
                raise AssertionError(f"import gave {info.digest} ({info.size} bytes), expected {digest}")
            remove(daemon, store, digest)

            subprocess.run(["sync"], check=True)
            with open(src, "rb") as f:
                t = time.perf_counter()
                subprocess.run(daemon.ctr_argv("content", "ingest", "--expected-size", str(size),
                                               "--expected-digest", digest, "bench-ctr", namespace=NS),
                               stdin=f, check=True, capture_output=True)
                w_ctr.append(time.perf_counter() - t)
            remove(daemon, store, digest)
        emit(write_mb=size / 1e6, import_file_s=min(w_ours), ctr_ingest_s=min(w_ctr),
             import_file_MBps=size / 1e6 / min(w_ours), ctr_ingest_MBps=size / 1e6 / min(w_ctr))
        ratios["write: ctr ingest / import_file"] = min(w_ctr) / min(w_ours)

        # -- read ------------------------------------------------------------------------
        store.import_file(src)

        def read_only():
            n = 0
            with store.reader_at(digest) as r:
                for data in r.chunks():
                    n += len(data)
            if n != size:
                raise AssertionError(f"read {n} bytes of {size}")

        def read_hash():
            if not store.verify(digest):
                raise AssertionError(f"{digest} read back wrong")

        def ctr_get():
            with open(os.devnull, "wb") as null:
                subprocess.run(daemon.ctr_argv("content", "get", digest, namespace=NS), stdout=null, check=True)

        r_ours = best(read_only, args.runs)
        r_hash = best(read_hash, args.runs)
        r_ctr = best(ctr_get, args.runs)
        emit(read_mb=size / 1e6, read_s=r_ours, read_sha256_s=r_hash, ctr_get_s=r_ctr,
             read_MBps=size / 1e6 / r_ours, ctr_get_MBps=size / 1e6 / r_ctr)
        ratios["read: ctr get / reader chunks"] = r_ctr / r_ours
        ratios["read: ctr get / read+sha256"] = r_ctr / r_hash
        store.close()

    print("\nratio (>1 means ContainerdStore is faster)")
    for name, value in ratios.items():
        print(f"  {name:<36} {value:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
