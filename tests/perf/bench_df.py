#!/usr/bin/env python3
"""``blobctl df`` against ``ctr`` and GNU ``du`` on a root a real private daemon made, in one run.

    python tests/perf/bench_df.py [--images 5] [--blobs 3000] [--runs 3]

The root: a private containerd (tests/support/containerd.py) into which ``--images`` real OCI
images built with umoci (tests/support/images.py) are imported and unpacked with ``ctr images
import`` (snapshots), in two namespaces (``default`` and ``team``, one image in both), one
container on the first image, and ``--blobs`` extra small blobs written under a lease that
stays (ContainerdStore, 8 streams at once).  The daemon is stopped, its root copied (``cp -a``)
and started again, so the offline side reads a stopped copy and the live side the daemon.

Timed, best of ``--runs`` interleaved runs, each a whole process writing to a pipe:

* ``blobctl_root``: ``blobctl --root COPY df --json`` (every namespace, the GC dry run, owners,
  ``du`` of each snapshot directory);
* ``blobctl_live``: ``blobctl -a SOCKET -n NS df --json`` for each namespace (the daemon's
  content, ingests, leases and Snapshots List + Usage);
* ``ctr``: ``ctr -n NS snapshots usage`` (every snapshot) and ``ctr -n NS content ls`` for each
  namespace, the peer of the live figure;
* ``du``: ``du -sxB1 COPY``, the floor of the offline figure (it only counts);
* ``startup``: ``blobctl --help``, the interpreter and its imports, blobctl's own floor.

``nerdctl system df`` would be the natural peer; it is looked for (``nerdctl`` on PATH, then
``apt-cache policy nerdctl``) and skipped with the reason printed when it is not installable.
Ratios are ours / peer.  Nothing asserts a timing; the run fails only when blobctl's counts
disagree with what ctr lists (live: per namespace; the root: distinct digests, one file each).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.containerd import ContainerdStore  # noqa: E402
from tests.support.containerd import CTR, ContainerdDaemon  # noqa: E402
from tests.support.images import make_oci_image  # noqa: E402

NAMESPACES = ("default", "team")
BLOBCTL = [sys.executable, "-m", "store"]
DU = shutil.which("du") or "/usr/bin/du"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def nerdctl_status() -> str | None:
    """None when nerdctl can be run, else why not."""
    if shutil.which("nerdctl"):
        return None
    try:
        policy = subprocess.run(["apt-cache", "policy", "nerdctl"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"nerdctl is not installed and apt-cache could not be asked ({exc})"
    if "Candidate:" not in policy.stdout or "Candidate: (none)" in policy.stdout:
        return "nerdctl is not installed and no apt source offers it (`apt-cache policy nerdctl` lists nothing)"
    return "nerdctl is offered by apt but not installed (add it to scripts/test's apt list to compare)"


def populate(address: str, count: int) -> None:
    """``count`` small blobs under one lease that stays (they are the lease's to keep)."""
    store = ContainerdStore(address, "default")
    lease = store.create_lease()
    leased = store.with_lease(lease)

    def one(i: int) -> None:
        data = f"df bench blob {i:08d} ".encode() * 8
        with leased.writer(f"df{i}", total=len(data)) as w:
            w.write(data)
            w.commit(len(data))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))
    store.close()


def timed(argv: list[str], env: dict | None = None) -> tuple[float, bytes]:
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, check=True, timeout=600, cwd=REPO, env=env)
    return time.perf_counter() - t, r.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=5)
    ap.add_argument("--blobs", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    emit(load=" ".join(Path("/proc/loadavg").read_text().split()[:3]).replace(" ", "/"), cpus=os.cpu_count())
    why_no_nerdctl = nerdctl_status()
    if why_no_nerdctl:
        print(f"skipped peer nerdctl system df: {why_no_nerdctl}", flush=True)

    with tempfile.TemporaryDirectory(prefix="blobscope-bench-df-") as tmp:
        t = time.perf_counter()
        archives = [make_oci_image(Path(tmp) / f"img{i}", f"example.org/bench/app{i}:1.0",
                                   motd=f"image {i}\n" * (500 * (i + 1))) for i in range(args.images)]
        daemon = ContainerdDaemon(tmp)
        daemon.start()
        try:
            for i, archive in enumerate(archives):
                daemon.ctr("images", "import", str(archive), namespace=NAMESPACES[i % 2])
            daemon.ctr("images", "import", str(archives[0]), namespace="team")  # shared across namespaces
            daemon.ctr("containers", "create", "example.org/bench/app0:1.0", "c0")
            populate(daemon.address, args.blobs)
            emit(setup_s=time.perf_counter() - t)
            daemon.stop()
            copy = Path(tmp) / "copy"
            subprocess.run(["cp", "-a", str(daemon.root), str(copy)], check=True)
            daemon.start()
            return measure(daemon, copy, args.runs, why_no_nerdctl)
        finally:
            daemon.close()


def measure(daemon: ContainerdDaemon, copy: Path, runs: int, why_no_nerdctl: str | None) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ctr_base = [CTR, "--address", daemon.address]
    times: dict[str, list[float]] = {"blobctl_root": [], "blobctl_live": [], "ctr": [], "du": [], "startup": []}
    root_json = live_json = None
    ctr_out: dict[str, bytes] = {}
    for _ in range(runs):
        s, out = timed([*BLOBCTL, "--root", str(copy), "df", "--json"], env)
        times["blobctl_root"].append(s)
        root_json = json.loads(out)
        total, live_json = 0.0, {}
        for ns in NAMESPACES:
            s, out = timed([*BLOBCTL, "-a", daemon.address, "-n", ns, "df", "--json"], env)
            total += s
            live_json[ns] = json.loads(out)
        times["blobctl_live"].append(total)
        total = 0.0
        for ns in NAMESPACES:
            s, ctr_out[f"{ns} usage"] = timed([*ctr_base, "-n", ns, "snapshots", "--snapshotter", "overlayfs", "usage"])
            total += s
            s, ctr_out[f"{ns} content"] = timed([*ctr_base, "-n", ns, "content", "ls"])
            total += s
        times["ctr"].append(total)
        s, out = timed([DU, "-sxB1", str(copy)])
        times["du"].append(s)
        du_bytes = int(out.split()[0])
        s, _ = timed([*BLOBCTL, "--help"], env)  # the interpreter and imports alone: blobctl's floor
        times["startup"].append(s)
    best = {k: min(v) for k, v in times.items()}
    assert root_json is not None and live_json is not None
    ctr_blobs = sum(len(ctr_out[f"{ns} content"].splitlines()) - 1 for ns in NAMESPACES)
    # the root's content count is of files: a digest in two namespaces is one file
    ctr_files = len({line.split()[0] for ns in NAMESPACES for line in ctr_out[f"{ns} content"].splitlines()[1:]})
    ctr_snaps = sum(len(ctr_out[f"{ns} usage"].splitlines()) - 1 for ns in NAMESPACES)
    live_blobs = sum(live_json[ns]["content"]["count"] for ns in NAMESPACES)
    live_snaps = sum(live_json[ns]["snapshots"]["count"] for ns in NAMESPACES)
    emit(ctr_blobs=ctr_blobs, ctr_distinct_blobs=ctr_files, ctr_snapshots=ctr_snaps, blobctl_live_blobs=live_blobs, blobctl_live_snapshots=live_snaps,
         blobctl_root_blobs=root_json["content"]["count"], blobctl_root_snapshots=root_json["snapshots"]["count"],
         du_bytes=du_bytes, blobctl_root_reclaimable=root_json["reclaimable_bytes"])
    for k, v in times.items():
        emit(**{f"{k}_s": min(v)}, all_s=",".join(f"{x:.3f}" for x in v))
    emit(ratio_blobctl_live_vs_ctr=best["blobctl_live"] / best["ctr"],
         ratio_blobctl_root_vs_du=best["blobctl_root"] / best["du"],
         ratio_blobctl_root_vs_ctr=best["blobctl_root"] / best["ctr"],
         ratio_blobctl_root_vs_startup=best["blobctl_root"] / best["startup"],
         load_average=os.getloadavg()[0])
    if why_no_nerdctl:
        print(f"nerdctl system df: not measured ({why_no_nerdctl})")
    print(f"\n| what | time | peer | peer time | ratio |\n|---|---|---|---|---|\n"
          f"| `blobctl -a SOCK -n NS df --json`, {len(NAMESPACES)} namespaces | {best['blobctl_live']:.3f} s | "
          f"`ctr snapshots usage` + `ctr content ls` per namespace | {best['ctr']:.3f} s | "
          f"{best['blobctl_live'] / best['ctr']:.2f}x |\n"
          f"| `blobctl --root COPY df --json` | {best['blobctl_root']:.3f} s | `du -sxB1 COPY` | {best['du']:.3f} s | "
          f"{best['blobctl_root'] / best['du']:.2f}x |\n"
          f"| `blobctl --root COPY df --json` | {best['blobctl_root']:.3f} s | ctr (as above) | {best['ctr']:.3f} s | "
          f"{best['blobctl_root'] / best['ctr']:.2f}x |\n"
          f"| `blobctl --root COPY df --json` | {best['blobctl_root']:.3f} s | `blobctl --help` (interpreter, imports) | "
          f"{best['startup']:.3f} s | {best['blobctl_root'] / best['startup']:.2f}x |")
    bad = []
    if live_blobs != ctr_blobs:
        bad.append(f"blobctl -a counted {live_blobs} blobs, ctr content ls {ctr_blobs}")
    if live_snaps != ctr_snaps:
        bad.append(f"blobctl -a counted {live_snaps} snapshots, ctr snapshots usage {ctr_snaps}")
    if root_json["content"]["count"] != ctr_files:
        bad.append(f"blobctl --root counted {root_json['content']['count']} blobs, ctr content ls {ctr_files} digests")
    if root_json["snapshots"]["count"] != ctr_snaps:
        bad.append(f"blobctl --root counted {root_json['snapshots']['count']} snapshots, ctr {ctr_snaps}")
    for b in bad:
        print(f"FAIL: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
