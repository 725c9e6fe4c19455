"""containerd's garbage collector against Blobscope's prediction of it, on a real daemon.

A :class:`Scenario` drives a private ``containerd`` (``tests/support/containerd.py``) through
``ctr`` and two raw gRPC calls ``ctr`` 1.6 lacks (adding a resource to a lease, a partial write
under a lease): images imported and unpacked (made here as OCI archives whose layers are shared
by name), images deleted, containers, snapshots prepared/committed/viewed, leases with and
without expiry (flat too), ``gc.root``/``gc.ref.*`` labels, loose blobs and stalled ingests.
Every operation is written down in ``steps``, so a failure shows how its state was built.

:func:`prove` then copies the quiescent root (daemon stopped), runs
``python -m store --root COPY gc --dry-run --json`` on the copy, restarts the daemon, makes it
collect once (``ctr leases delete --sync`` of a throw-away lease) and compares what is left
(``ctr`` listings per namespace and the files under the root) with the prediction; see
docs/gc-proof.md.

The daemon's scheduler is configured (:data:`SCHEDULER`) so that the GC never runs by itself:
no startup pass, deletions and mutations never schedule one, and the pause-based interval
after a pass is days long.  Its debug log counts the passes, and :func:`prove` checks that
none ran before the one it triggered.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from tests.support.containerd import ContainerdDaemon
from tests.support.images import make_tar

REPO = Path(__file__).resolve().parents[2]

# No pass at startup (startup_delay 0), none scheduled by deletions (threshold out of reach) or
# mutations (0: only by deletion or trigger); after a pass the next check waits
# avg_pause / pause_threshold, i.e. days.  A trigger (sync delete) still runs at once.
SCHEDULER = {
    "startup_delay": '"0s"',
    "deletion_threshold": "1000000000",
    "mutation_threshold": "0",
    "pause_threshold": "1e-9",
    "schedule_delay": '"0s"',
}
DEBUG_CONFIG = '[debug]\n  level = "debug"\n'
GC_PASS_LOG = 'msg="garbage collected"'
SNAPSHOTTERS = ("overlayfs", "native")
TRIGGER_NAMESPACE = "blobscope-gc-trigger"
KINDS = ("blob", "snapshot", "lease", "ingest")
GC_ROOT = "containerd.io/gc.root"
GC_EXPIRE = "containerd.io/gc.expire"
GC_FLAT = "containerd.io/gc.flat"
PAST = "2001-01-01T00:00:00Z"

Item = tuple[str, str, str]  # (kind, namespace, id) as in the dry run's JSON


def new_daemon(tmp: os.PathLike | str, name: str = "containerd") -> ContainerdDaemon:
    """A daemon whose GC runs only when asked (:data:`SCHEDULER`), logging each pass."""
    return ContainerdDaemon(tmp, name=name, gc_scheduler=SCHEDULER, extra_config=DEBUG_CONFIG)


# ---------------------------------------------------------------------------------- images
@dataclass(frozen=True)
class ImageSpec:
    """An image whose layers are named: two specs naming the same layer share its blob."""

    name: str
    layers: tuple[str, ...]
    gzip: bool = False
    # Other architectures besides the host's: the archive's top is then an image index whose
    # manifests differ in their config (same layers); ctr imports the host's only.
    other_platforms: tuple[str, ...] = ()


def layer_tar(layer: str) -> bytes:
    return make_tar({f"layers/{layer}.txt": (f"layer {layer}\n" * 64).encode()})


def _put(blobs: Path, data: bytes) -> dict:
    hexd = hashlib.sha256(data).hexdigest()
    (blobs / hexd).write_bytes(data)
    return {"digest": f"sha256:{hexd}", "size": len(data)}


def _arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def build_archive(spec: ImageSpec, workdir: Path) -> Path:
    """An ``oci-archive`` of ``spec`` (deterministic bytes; made once per workdir)."""
    key = hashlib.sha256(repr(spec).encode()).hexdigest()[:16]
    out = workdir / f"image-{key}.oci.tar"
    if out.exists():
        return out
    layout = workdir / f"image-{key}.layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    layers, diff_ids = [], []
    for name in spec.layers:
        tar = layer_tar(name)
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        desc = _put(blobs, gzip.compress(tar, mtime=0) if spec.gzip else tar)
        desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if spec.gzip else "")
        layers.append(desc)
    manifests = []
    for arch in (_arch(), *spec.other_platforms):
        config = _put(blobs, json.dumps({
            "architecture": arch, "os": "linux", "config": {"Labels": {"fixture.name": spec.name}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode())
        config["mediaType"] = "application/vnd.oci.image.config.v1+json"
        manifest = _put(blobs, json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": layers}, sort_keys=True).encode())
        manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        manifest["platform"] = {"architecture": arch, "os": "linux"}
        manifests.append(manifest)
    if spec.other_platforms:
        top = _put(blobs, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                      "manifests": manifests}, sort_keys=True).encode())
        top["mediaType"] = "application/vnd.oci.image.index.v1+json"
    else:
        top = {k: v for k, v in manifests[0].items() if k != "platform"}
    top["annotations"] = {"org.opencontainers.image.ref.name": spec.name}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    tmp = out.with_suffix(".part")
    with tarfile.open(tmp, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(layout / name, arcname=name)
    tmp.rename(out)
    return out


# ------------------------------------------------------------------------- raw gRPC calls
# ctr 1.6 cannot add a resource to a lease nor write under one; the two messages needed are
# small enough to encode by hand (protobuf wire format: varint keys, length-delimited strings).
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _field_int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _identity(b: bytes) -> bytes:
    return b


def _channel(daemon: ContainerdDaemon) -> grpc.Channel:
    return grpc.insecure_channel(f"unix://{daemon.address}")


def add_lease_resource(daemon: ContainerdDaemon, namespace: str, lease: str, rtype: str, rid: str) -> None:
    """Leases.AddResource: ``rtype`` is ``content``, ``snapshots/<snapshotter>`` or ``ingests``."""
    resource = _field_bytes(1, rid.encode()) + _field_bytes(2, rtype.encode())
    request = _field_bytes(1, lease.encode()) + _field_bytes(2, resource)
    with _channel(daemon) as ch:
        call = ch.unary_unary("/containerd.services.leases.v1.Leases/AddResource",
                              request_serializer=_identity, response_deserializer=_identity)
        call(request, metadata=[("containerd-namespace", namespace)], timeout=30)


def partial_write(daemon: ContainerdDaemon, namespace: str, ref: str, data: bytes, total: int,
                  lease: str | None = None) -> None:
    """Content.Write: ``data`` at offset 0 of an ingest of ``total`` bytes, never committed."""
    request = (_field_int(1, 1) + _field_bytes(2, ref.encode()) + _field_int(3, total)
               + _field_bytes(6, data))  # action WRITE, ref, total, data (offset 0)
    metadata = [("containerd-namespace", namespace)]
    if lease:
        metadata.append(("containerd-lease", lease))
    with _channel(daemon) as ch:
        call = ch.stream_stream("/containerd.services.content.v1.Content/Write",
                                request_serializer=_identity, response_deserializer=_identity)
        for _ in call(iter([request]), metadata=metadata, timeout=30):
            pass


# -------------------------------------------------------------------------------- scenario
@dataclass
class Scenario:
    """Operations on a running daemon, each recorded in ``steps``; ``seed`` names a random one."""

    daemon: ContainerdDaemon
    workdir: Path
    seed: int | None = None
    steps: list[str] = field(default_factory=list)
    # What exists, for random scenarios to pick from (namespace -> ...).
    images: dict[str, dict[str, ImageSpec]] = field(default_factory=dict)
    unpacked: dict[str, dict[str, str]] = field(default_factory=dict)  # ns -> image -> snapshotter
    containers: dict[str, list[str]] = field(default_factory=dict)
    committed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # ns -> (snapshotter, key)
    snapshots: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    blobs: dict[str, list[str]] = field(default_factory=dict)
    leases: dict[str, list[str]] = field(default_factory=dict)
    ingests: dict[str, list[str]] = field(default_factory=dict)
    _counter: int = 0
    gc_baseline: int = 0  # GC passes in the daemon's log before this scenario began

    def __post_init__(self) -> None:
        self.gc_baseline = gc_passes(self.daemon, since_start=False)

    def _step(self, text: str) -> None:
        self.steps.append(text)

    def _unique(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def ctr(self, *args: str, namespace: str) -> str:
        return self.daemon.ctr(*args, namespace=namespace).stdout

    def describe(self) -> str:
        head = f"seed {self.seed} (rerun with BLOBSCOPE_GC_SEED={self.seed})\n" if self.seed is not None else ""
        return head + "steps:\n" + "\n".join(f"  {i + 1:2}. {s}" for i, s in enumerate(self.steps))

    # -- images
    def import_image(self, ns: str, spec: ImageSpec, *, unpack: bool = True, snapshotter: str = "overlayfs") -> None:
        archive = build_archive(spec, self.workdir)
        args = ["images", "import"]
        if not unpack:
            args.append("--no-unpack")
        elif snapshotter != "overlayfs":
            args += ["--snapshotter", snapshotter]
        self.ctr(*args, str(archive), namespace=ns)
        self._step(f"[{ns}] ctr images import {'--no-unpack ' if not unpack else ''}"
                   f"{'' if snapshotter == 'overlayfs' else '--snapshotter ' + snapshotter + ' '}"
                   f"{spec.name} (layers {', '.join(spec.layers)}{', gzip' if spec.gzip else ''})")
        self.images.setdefault(ns, {})[spec.name] = spec
        if unpack:
            self.unpacked.setdefault(ns, {})[spec.name] = snapshotter
            chain = self.image_chain(ns, spec.name)
            self.committed.setdefault(ns, [])
            for key in chain:
                if (snapshotter, key) not in self.committed[ns]:
                    self.committed[ns].append((snapshotter, key))

    def remove_image(self, ns: str, name: str) -> None:
        self.ctr("images", "rm", name, namespace=ns)
        self._step(f"[{ns}] ctr images rm {name}")
        self.images[ns].pop(name)
        self.unpacked.get(ns, {}).pop(name, None)

    def image_digests(self, ns: str, name: str) -> dict[str, list[str] | str]:
        """{"target", "manifest", "config", "layers"} of an imported image (from the daemon);
        for an index, the host platform's manifest (the first one, as built)."""
        spec = self.images[ns][name]
        out = self.ctr("images", "ls", namespace=ns).splitlines()
        target = next(line.split()[2] for line in out[1:] if line.split() and line.split()[0] == name)
        content = self.daemon.content_ls(ns)
        manifest = target
        if spec.other_platforms:
            manifest = content[target]["labels"]["containerd.io/gc.ref.content.m.0"]
        labels = content[manifest]["labels"]
        layers = [labels[f"containerd.io/gc.ref.content.l.{i}"] for i in range(len(spec.layers))]
        return {"target": target, "manifest": manifest, "config": labels["containerd.io/gc.ref.content.config"],
                "layers": layers}

    def label_image(self, ns: str, name: str, labels: dict[str, str]) -> None:
        self.ctr("images", "label", name, *(f"{k}={v}" for k, v in labels.items()), namespace=ns)
        self._step(f"[{ns}] ctr images label {name} {labels}")

    def image_chain(self, ns: str, name: str) -> list[str]:
        """The chain IDs of an image's layers, bottom first (the keys its unpack committed)."""
        chain: list[str] = []
        for layer in self.images[ns][name].layers:
            diff = "sha256:" + hashlib.sha256(layer_tar(layer)).hexdigest()
            chain.append(diff if not chain else
                         "sha256:" + hashlib.sha256(f"{chain[-1]} {diff}".encode()).hexdigest())
        return chain

    # -- containers and snapshots
    def create_container(self, ns: str, image: str, cid: str, labels: dict[str, str] | None = None) -> None:
        snapshotter = self.unpacked.get(ns, {}).get(image, "overlayfs")
        args = ["containers", "create", "--snapshotter", snapshotter]
        for k, v in (labels or {}).items():
            args += ["--label", f"{k}={v}"]
        self.ctr(*args, image, cid, namespace=ns)
        self._step(f"[{ns}] ctr containers create --snapshotter {snapshotter} {image} {cid} labels={labels or {}}")
        self.containers.setdefault(ns, []).append(cid)
        self.unpacked.setdefault(ns, {})[image] = snapshotter
        self.snapshots.setdefault(ns, []).append((snapshotter, cid))

    def delete_container(self, ns: str, cid: str, *, keep_snapshot: bool) -> None:
        args = ["containers", "delete"] + (["--keep-snapshot"] if keep_snapshot else []) + [cid]
        self.ctr(*args, namespace=ns)
        self._step(f"[{ns}] ctr {' '.join(args)}")
        self.containers[ns].remove(cid)
        if not keep_snapshot:
            self.snapshots[ns] = [s for s in self.snapshots[ns] if s[1] != cid]

    def prepare(self, ns: str, key: str, parent: str | None = None, *, snapshotter: str = "overlayfs",
                view: bool = False, keep_root: bool = False) -> None:
        """``ctr snapshots prepare`` (or ``view``).  ctr labels a prepared snapshot
        ``containerd.io/gc.root``; unless ``keep_root``, that label is taken off again."""
        verb = "view" if view else "prepare"
        self.ctr("snapshots", "--snapshotter", snapshotter, verb, key, *([parent] if parent else []), namespace=ns)
        self._step(f"[{ns}] ctr snapshots --snapshotter {snapshotter} {verb} {key} {parent or ''}".rstrip())
        self.snapshots.setdefault(ns, []).append((snapshotter, key))
        if not view and not keep_root:
            self.label_snapshot(ns, key, {GC_ROOT: ""}, snapshotter=snapshotter)

    def commit(self, ns: str, name: str, key: str, *, snapshotter: str = "overlayfs", keep_root: bool = False) -> None:
        """``ctr snapshots commit`` (which labels ``name`` gc.root; taken off unless ``keep_root``)."""
        self.ctr("snapshots", "--snapshotter", snapshotter, "commit", name, key, namespace=ns)
        self._step(f"[{ns}] ctr snapshots --snapshotter {snapshotter} commit {name} {key}")
        self.snapshots[ns].remove((snapshotter, key))
        self.committed.setdefault(ns, []).append((snapshotter, name))
        if not keep_root:
            self.label_snapshot(ns, name, {GC_ROOT: ""}, snapshotter=snapshotter)

    def label_snapshot(self, ns: str, key: str, labels: dict[str, str], *, snapshotter: str = "overlayfs") -> None:
        self.ctr("snapshots", "--snapshotter", snapshotter, "label", key,
                 *(f"{k}={v}" for k, v in labels.items()), namespace=ns)
        shown = {k: v if v else "(removed)" for k, v in labels.items()}
        self._step(f"[{ns}] ctr snapshots --snapshotter {snapshotter} label {key} {shown}")

    # -- content
    def ingest_blob(self, ns: str, data: bytes, ref: str | None = None) -> str:
        ref = ref or self._unique("blob-")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        # From a file: when another namespace has the blob, ctr seeks past what the daemon has.
        src = self.workdir / f"blob-{digest[7:23]}"
        src.write_bytes(data)
        with open(src, "rb") as f:
            argv = self.daemon.ctr_argv("content", "ingest", "--expected-digest", digest, ref, namespace=ns)
            r = subprocess.run(argv, stdin=f, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed: {r.stderr.strip()}")
        self._step(f"[{ns}] ctr content ingest {ref} ({len(data)} bytes) -> {digest}")
        if digest not in self.blobs.setdefault(ns, []):
            self.blobs[ns].append(digest)
        return digest

    def delete_content(self, ns: str, digest: str) -> None:
        """``ctr content rm``: the record goes now, the file at the next GC pass that cleans content."""
        self.ctr("content", "rm", digest, namespace=ns)
        self._step(f"[{ns}] ctr content rm {digest}")
        self.blobs[ns].remove(digest)

    def remove_snapshot(self, ns: str, key: str, *, snapshotter: str = "overlayfs") -> None:
        """``ctr snapshots rm``: the record goes now, the directory at a later GC pass."""
        self.ctr("snapshots", "--snapshotter", snapshotter, "rm", key, namespace=ns)
        self._step(f"[{ns}] ctr snapshots --snapshotter {snapshotter} rm {key}")
        self.snapshots[ns].remove((snapshotter, key))

    def label_content(self, ns: str, digest: str, labels: dict[str, str]) -> None:
        self.ctr("content", "label", digest, *(f"{k}={v}" for k, v in labels.items()), namespace=ns)
        self._step(f"[{ns}] ctr content label {digest} {labels}")

    def stall_ingest(self, ns: str, ref: str, size: int = (1 << 20) + 4096, total: int = 4 << 20) -> None:
        """``ctr content ingest`` killed after ``size`` of ``total`` bytes reached the daemon.

        ctr sends in 1 MiB pieces (content.Copy reads at least a full buffer), hence the size."""
        proc = self.daemon.ctr_popen("content", "ingest", "--expected-size", str(total), ref, namespace=ns)
        assert proc.stdin is not None
        proc.stdin.write(b"s" * size)
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                if self._ingest_offset(ns, ref) >= 1 << 20:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"ingest {ref} never reached 1 MiB")
        finally:
            proc.kill()
            proc.communicate()
        self._step(f"[{ns}] ctr content ingest --expected-size {total} {ref}: killed after {size} bytes")
        self.ingests.setdefault(ns, []).append(ref)

    def _ingest_offset(self, ns: str, ref: str) -> int:
        for line in self.ctr("content", "active", namespace=ns).splitlines()[1:]:
            parts = line.split()
            if parts and parts[0] == ref:
                size = parts[1].split("/")[0]
                return _parse_size(size)
        return -1

    def leased_write(self, ns: str, ref: str, data: bytes, total: int, lease: str | None) -> None:
        partial_write(self.daemon, ns, ref, data, total, lease)
        self._step(f"[{ns}] Content.Write {ref} {len(data)}/{total} bytes under lease {lease}, not committed")
        self.ingests.setdefault(ns, []).append(ref)

    # -- leases
    def create_lease(self, ns: str, lease_id: str, *, expire: str | None = None, flat: bool | str | None = None,
                     expires_flag: str = "0") -> None:
        """``expire``: a ``containerd.io/gc.expire`` value (None: no label); ``flat``: the
        ``containerd.io/gc.flat`` value (True: "true"; any value makes the lease flat);
        ``expires_flag``: ctr's ``--expires`` (a Go duration; "0" none)."""
        labels = {}
        if expire is not None:
            labels[GC_EXPIRE] = expire
        if flat:
            labels[GC_FLAT] = "true" if flat is True else flat
        self.ctr("leases", "create", "--id", lease_id, "--expires", expires_flag,
                 *(f"{k}={v}" for k, v in labels.items()), namespace=ns)
        self._step(f"[{ns}] ctr leases create --id {lease_id} --expires {expires_flag} {labels}")
        self.leases.setdefault(ns, []).append(lease_id)

    def lease_add(self, ns: str, lease_id: str, rtype: str, rid: str) -> None:
        add_lease_resource(self.daemon, ns, lease_id, rtype, rid)
        self._step(f"[{ns}] Leases.AddResource {lease_id} += {rtype} {rid}")

    def delete_lease(self, ns: str, lease_id: str) -> None:
        self.ctr("leases", "delete", lease_id, namespace=ns)
        self._step(f"[{ns}] ctr leases delete {lease_id} (not --sync)")
        self.leases[ns].remove(lease_id)


def _parse_size(text: str) -> int:
    units = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * units[unit])
    return int(float(text))


# ------------------------------------------------------------------------------ the truth
@dataclass
class Inventory:
    """What exists: records through ``ctr`` per namespace, and files under the root."""

    items: set[Item]
    blob_files: set[str]                 # digests under blobs/sha256
    snapshot_dirs: dict[str, int]        # snapshotter -> number of snapshots/<id> directories
    ingest_dirs: set[tuple[str, str]]    # (namespace, ref) of each ingest/<hash> directory
    # Snapshots without a directory of their own: the native snapshotter's views of a parent
    # (their mount is the parent's directory, read-only; snapshots/native/native.go).
    dirless: set[Item] = field(default_factory=set)

    def expected_dirs(self, items: set[Item]) -> dict[str, int]:
        """snapshots/<id> directories per snapshotter that ``items`` should have."""
        return {sn: sum(1 for i in items if i[0] == "snapshot" and i[2].startswith(sn + "/")
                        and i not in self.dirless) for sn in SNAPSHOTTERS}


def inventory(daemon: ContainerdDaemon) -> Inventory:
    items: set[Item] = set()
    dirless: set[Item] = set()
    namespaces = daemon.ctr("namespaces", "ls", "-q").stdout.split()
    for ns in namespaces:
        items |= {("blob", ns, d) for d in daemon.content_digests(ns)}
        for sn in SNAPSHOTTERS:
            out = daemon.ctr("snapshots", "--snapshotter", sn, "ls", namespace=ns).stdout.splitlines()
            for parts in (line.split() for line in out[1:]):   # KEY [PARENT] KIND
                if parts:
                    items.add(("snapshot", ns, f"{sn}/{parts[0]}"))
                    if sn == "native" and len(parts) == 3 and parts[2] == "View":
                        dirless.add(("snapshot", ns, f"{sn}/{parts[0]}"))
        items |= {("lease", ns, lid) for lid in daemon.ctr("leases", "ls", "-q", namespace=ns).stdout.split()}
        out = daemon.ctr("content", "active", namespace=ns).stdout.splitlines()
        items |= {("ingest", ns, line.split()[0]) for line in out[1:] if line.split()}
    return Inventory(items, *disk_state(daemon.root), dirless=dirless)


def disk_state(root: Path) -> tuple[set[str], dict[str, int], set[tuple[str, str]]]:
    content = root / "io.containerd.content.v1.content"
    blobs = content / "blobs" / "sha256"
    blob_files = {f"sha256:{p.name}" for p in blobs.iterdir()} if blobs.is_dir() else set()
    dirs = {}
    for sn in SNAPSHOTTERS:
        d = root / f"io.containerd.snapshotter.v1.{sn}" / "snapshots"
        dirs[sn] = sum(1 for _ in d.iterdir()) if d.is_dir() else 0
    ingests = set()
    idir = content / "ingest"
    for d in idir.iterdir() if idir.is_dir() else ():
        bref = (d / "ref").read_text()          # "<namespace>/<sequence>/<ref>"
        ns, _, rest = bref.partition("/")
        ingests.add((ns, rest.partition("/")[2]))
    return blob_files, dirs, ingests


def gc_passes(daemon: ContainerdDaemon, *, since_start: bool = True) -> int:
    """GC passes the daemon logged since it last started (or ever, on this log)."""
    try:
        text = daemon.log_path.read_text(errors="replace")
    except FileNotFoundError:
        return 0
    return (text.rsplit("---- starting", 1)[-1] if since_start else text).count(GC_PASS_LOG)


def trigger_gc(daemon: ContainerdDaemon) -> None:
    """One synchronous GC pass: a throw-away lease deleted with ``--sync``."""
    lease = f"gc-trigger-{time.monotonic_ns()}"
    daemon.ctr("leases", "create", "--id", lease, "--expires", "0", namespace=TRIGGER_NAMESPACE)
    daemon.ctr("leases", "delete", "--sync", lease, namespace=TRIGGER_NAMESPACE)


def predict(root: Path) -> list[dict]:
    """``blobctl --root ROOT gc --dry-run --json`` (as ``python -m store``), parsed."""
    r = subprocess.run([sys.executable, "-m", "store", "--root", str(root), "gc", "--dry-run", "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"blobctl gc --dry-run --json failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    try:
        rows = json.loads(r.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"blobctl gc --dry-run --json printed no JSON ({exc}): {r.stdout[:500]!r}") from None
    return rows


# ---------------------------------------------------------------------------------- proof
@dataclass
class Proof:
    scenario: Scenario
    before: Inventory
    prediction: dict[Item, dict]
    after: Inventory
    copy: Path
    problems: list[str]
    passes_before_trigger: int = 0  # GC passes logged while building and predicting
    passes_after_trigger: int = 0

    def row(self, kind: str, ns: str, rid: str) -> dict:
        return self.prediction[(kind, ns, rid)]

    def gone(self, kind: str, ns: str, rid: str) -> bool:
        return (kind, ns, rid) not in self.after.items

    def explain(self, item: Item) -> str:
        row = self.prediction.get(item)
        pred = "absent from the prediction" if row is None else f"collect={row['collect']} why={row['why']}"
        state = "gone" if item not in self.after.items else "still there"
        return f"{item[0]} {item[1]}/{item[2]}: predicted {pred}; after the daemon's GC: {state}"

    def message(self, limit: int = 40) -> str:
        shown = self.problems[:limit]
        more = f"\n  ... {len(self.problems) - limit} more" if len(self.problems) > limit else ""
        return ("the GC dry run disagrees with containerd:\n  " + "\n  ".join(shown) + more
                + "\n" + self.scenario.describe() + f"\n(root copy: {self.copy})")


def _check_row(row: object) -> str | None:
    if not isinstance(row, dict):
        return f"not an object: {row!r}"
    want = {"kind": str, "namespace": str, "id": str, "collect": bool, "bytes": int, "why": list}
    for key, typ in want.items():
        if not isinstance(row.get(key), typ) or (typ is int and isinstance(row.get(key), bool)):
            return f"{key!r} missing or not {typ.__name__}: {row!r}"
    if row["kind"] not in KINDS:
        return f"unknown kind: {row!r}"
    if not all(isinstance(s, str) for s in row["why"]):
        return f"'why' holds a non-string: {row!r}"
    if row["collect"] == bool(row["why"]):
        return f"'why' must be empty exactly when collected: {row!r}"
    return None


def prove(sc: Scenario, copy_dir: Path) -> Proof:
    """Predict on a copy of the quiescent root, collect for real, compare (see the module doc)."""
    d = sc.daemon
    problems: list[str] = []
    before = inventory(d)
    d.stop()
    if copy_dir.exists():
        shutil.rmtree(copy_dir)
    subprocess.run(["cp", "-a", str(d.root), str(copy_dir)], check=True)
    d.start()
    # The root must not have moved between the listing, the copy and the GC.
    restarted = inventory(d)
    if restarted.items != before.items:
        problems.append(f"the daemon's state changed across a restart: "
                        f"{sorted(before.items ^ restarted.items)}")
    rows = predict(copy_dir)
    prediction: dict[Item, dict] = {}
    if not isinstance(rows, list):
        raise AssertionError(f"the dry run printed {type(rows).__name__}, not a JSON array")
    for row in rows:
        bad = _check_row(row)
        if bad:
            problems.append(f"malformed row: {bad}")
            continue
        item = (row["kind"], row["namespace"], row["id"])
        if item in prediction:
            problems.append(f"item listed twice: {item}")
        prediction[item] = row
    for item in sorted(before.items - prediction.keys()):
        problems.append(f"on disk but not predicted: {item[0]} {item[1]}/{item[2]}")
    for item in sorted(prediction.keys() - before.items):
        problems.append(f"predicted but not on disk: {item[0]} {item[1]}/{item[2]}")
    # Blob bytes are the blob file's size in the copy.
    blobs = copy_dir / "io.containerd.content.v1.content" / "blobs" / "sha256"
    for (kind, ns, rid), row in sorted(prediction.items()):
        if kind == "blob" and (blobs / rid.partition(":")[2]).is_file():
            size = (blobs / rid.partition(":")[2]).stat().st_size
            if row["bytes"] != size:
                problems.append(f"blob {ns}/{rid}: bytes {row['bytes']} but the file holds {size}")

    passes_before = gc_passes(d, since_start=False) - sc.gc_baseline
    if passes_before:
        problems.append(f"the daemon ran {passes_before} GC pass(es) by itself before the trigger")
    trigger_gc(d)
    after = inventory(d)
    passes_after = gc_passes(d, since_start=False) - sc.gc_baseline - passes_before
    if passes_after < 1:
        problems.append("the trigger ran no GC pass")
    after.items = {i for i in after.items if i[1] != TRIGGER_NAMESPACE}
    proof = Proof(sc, before, prediction, after, copy_dir, problems, passes_before, passes_after)
    problems += compare(proof)
    return proof


def compare(proof: Proof) -> list[str]:
    """Each record predicted collectable is gone and each predicted alive is there; the files too."""
    problems: list[str] = []
    prediction, before, after = proof.prediction, proof.before, proof.after
    for item, row in sorted(prediction.items()):
        if item not in before.items:
            continue
        gone = item not in after.items
        if row["collect"] != gone:
            problems.append(proof.explain(item))
    # The files agree with the records that are left.  containerd cleans a store's files only
    # after a pass that removed one of its records (or a delete since the daemon started: the
    # "dirty" flags live in memory, and the proof restarted the daemon), so a store whose
    # records all survived keeps its files, orphans included.
    alive = {i for i, r in prediction.items() if not r["collect"] and i in before.items}
    removed = {i for i in before.items if i not in after.items}
    if any(i[0] in ("blob", "ingest") for i in removed):
        want_blobs = {i[2] for i in alive if i[0] == "blob"}
        for digest in sorted(want_blobs - after.blob_files):
            problems.append(f"blob file {digest} is gone though a record of it was predicted alive")
        for digest in sorted(after.blob_files - want_blobs):
            problems.append(f"blob file {digest} is still there though every record of it was predicted collected")
        want_ingests = {(i[1], i[2]) for i in alive if i[0] == "ingest"}
        if after.ingest_dirs != want_ingests:
            problems.append(f"ingest directories left {sorted(after.ingest_dirs)}, "
                            f"predicted alive {sorted(want_ingests)}")
    elif (after.blob_files, after.ingest_dirs) != (before.blob_files, before.ingest_dirs):
        problems.append("the GC removed no content record, yet blob or ingest files changed")
    for sn, n in before.expected_dirs(before.items).items():
        if before.snapshot_dirs[sn] < n:   # more is fine: removed snapshots wait for a GC pass
            problems.append(f"{sn}: {before.snapshot_dirs[sn]} snapshot directories before the GC for {n} records")
    for sn, n in before.expected_dirs(alive).items():
        if any(i[0] == "snapshot" and i[2].startswith(sn + "/") for i in removed):
            if after.snapshot_dirs[sn] != n:
                problems.append(f"{sn}: {after.snapshot_dirs[sn]} snapshot directories left, {n} predicted alive")
        elif after.snapshot_dirs[sn] != before.snapshot_dirs[sn]:
            problems.append(f"{sn}: the GC removed no record, yet the snapshot directories went from "
                            f"{before.snapshot_dirs[sn]} to {after.snapshot_dirs[sn]}")
    return problems


# ------------------------------------------------------------------------- random scenarios
LAYERS = ("base", "libs", "app", "tools", "data")
NAMESPACES = ("default", "team-b")


def odd_name(rng: random.Random, plain: str) -> str:
    """Now and then a key or ref shaped like real ones: slashes, colons, dots, non-ASCII."""
    return rng.choice([plain, plain, f"k8s.io/7/{plain}", f"{plain}:sha256/ü-{plain}"])


def random_spec(rng: random.Random) -> ImageSpec:
    n = rng.randint(1, 3)
    layers = tuple(rng.sample(LAYERS[:2], 1)) + tuple(rng.sample(LAYERS[2:], n - 1))
    multi = ("arm64", "s390x") if rng.random() < 0.25 else ()
    return ImageSpec(f"example.org/gc/{'-'.join(layers)}:{rng.randint(1, 2)}{'-multi' if multi else ''}", layers,
                     gzip=rng.random() < 0.3, other_platforms=multi)


# gc.expire values as Go 1.19's time.Parse(time.RFC3339, ...) reads them: past, future, and
# text it rejects (then the lease never expires).
EXPIRIES = (
    None, PAST, "2999-01-01T00:00:00Z",
    "2001-01-01T00:00:00.123456789Z", "2001-01-01T00:00:00,5Z", "2001-01-01T1:00:00Z",  # expired
    "2999-01-01T00:00:00+05:30", "1999-12-31T23:00:00-01:00",
    "not-a-time", "2001-01-01 00:00:00Z", "2001-01-01T00:00:00", "2001-01-01", "2001-02-30T00:00:00Z",
    "2001-01-01t00:00:00z",
)
# Label keys around the gc.ref prefixes: followed, or ignored like containerd does.
CONTENT_REF_KEYS = ("containerd.io/gc.ref.content.r0", "containerd.io/gc.ref.content", "containerd.io/gc.ref.content/x",
                    "containerd.io/gc.ref.contentx", "containerd.io/gc.ref.content.m.1")


def _expiry(rng: random.Random) -> str | None:
    return rng.choice(EXPIRIES)


def random_scenario(sc: Scenario, rng: random.Random, n_ops: int) -> None:
    """A short random sequence of the operations of :class:`Scenario` (valid by construction)."""

    def ns() -> str:
        return rng.choice(NAMESPACES)

    def some_blob(n: str) -> str | None:
        pool = list(sc.blobs.get(n, []))
        for name in sc.images.get(n, {}):
            dg = sc.image_digests(n, name)
            pool += list({dg["target"], dg["manifest"], dg["config"], *dg["layers"]})
        return rng.choice(pool) if pool else None

    def some_snapshot(n: str, committed_only: bool = False) -> tuple[str, str] | None:
        pool = list(sc.committed.get(n, [])) + ([] if committed_only else list(sc.snapshots.get(n, [])))
        return rng.choice(pool) if pool else None

    def op_import() -> None:
        n = ns()
        spec = random_spec(rng)
        if spec.name in sc.images.get(n, {}):
            return
        unpack = rng.random() < 0.8
        sc.import_image(n, spec, unpack=unpack, snapshotter="native" if unpack and rng.random() < 0.15 else "overlayfs")

    def op_remove_image() -> None:
        n = ns()
        if sc.images.get(n):
            sc.remove_image(n, rng.choice(sorted(sc.images[n])))

    def op_container() -> None:
        n = ns()
        if not sc.images.get(n):
            return
        labels = {}
        if rng.random() < 0.3 and (b := some_blob(n)):
            labels["containerd.io/gc.ref.content.note"] = b
        sc.create_container(n, rng.choice(sorted(sc.images[n])), sc._unique("ctr-"), labels)

    def op_delete_container() -> None:
        n = ns()
        if sc.containers.get(n):
            sc.delete_container(n, rng.choice(sc.containers[n]), keep_snapshot=rng.random() < 0.5)

    def op_snapshot() -> None:
        n = ns()
        parent = some_snapshot(n, committed_only=True) if rng.random() < 0.8 else None
        sn = parent[0] if parent else "overlayfs"
        key = odd_name(rng, sc._unique("snap-"))
        view = rng.random() < 0.2
        sc.prepare(n, key, parent[1] if parent else None, snapshotter=sn, view=view, keep_root=rng.random() < 0.2)
        if not view and rng.random() < 0.4:
            sc.commit(n, odd_name(rng, sc._unique("committed-")), key, snapshotter=sn, keep_root=rng.random() < 0.2)

    def op_label_snapshot() -> None:
        n = ns()
        s = some_snapshot(n)
        if s is None:
            return
        r = rng.random()
        if r < 0.4:
            labels = {GC_ROOT: "pin"}
        elif r < 0.5:
            labels = {GC_ROOT: ""}   # taken off
        elif (b := some_blob(n)):
            labels = {rng.choice(CONTENT_REF_KEYS): b}
        else:
            return
        sc.label_snapshot(n, s[1], labels, snapshotter=s[0])

    def op_blob() -> None:
        n = ns()
        data = f"loose blob {rng.randint(0, 5)}\n".encode()  # small range: the same blob in both namespaces
        sc.ingest_blob(n, data)

    def op_label_content() -> None:
        n = ns()
        b = some_blob(n)
        if b is None:
            return
        r = rng.random()
        if r < 0.3:
            labels = {GC_ROOT: "2000-01-01T00:00:00Z"}
        elif r < 0.4:
            labels = {GC_EXPIRE: rng.choice(EXPIRIES[1:3])}   # no meaning on content in 1.6
        elif r < 0.7 and (t := some_blob(n)):
            labels = {rng.choice(CONTENT_REF_KEYS): t}
        elif (s := some_snapshot(n)):
            labels = {f"containerd.io/gc.ref.snapshot.{s[0]}{rng.choice(['', '/a'])}": s[1]}
        else:
            return
        sc.label_content(n, b, labels)

    def op_lease() -> None:
        n = ns()
        lid = sc._unique("lease-")
        sc.create_lease(n, lid, expire=_expiry(rng), flat=rng.choice([None, None, "true", "false"]))
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            if r < 0.5 and (b := some_blob(n)):
                sc.lease_add(n, lid, "content", b)
            elif r < 0.8 and (s := some_snapshot(n)):
                sc.lease_add(n, lid, f"snapshots/{s[0]}", s[1])
            elif r < 0.9:
                sc.lease_add(n, lid, "content", "sha256:" + hashlib.sha256(lid.encode()).hexdigest())
            else:
                ref = odd_name(rng, sc._unique("leased-ingest-"))
                sc.leased_write(n, ref, b"partial", 100, lid)
        if sc.images.get(n) and rng.random() < 0.4:
            # An interrupted pull, roughly: the lease holds a manifest whose image record is gone.
            name = rng.choice(sorted(sc.images[n]))
            sc.lease_add(n, lid, "content", sc.image_digests(n, name)["target"])
            sc.remove_image(n, name)

    def op_label_image() -> None:
        n = ns()
        if sc.images.get(n) and (b := some_blob(n)):
            sc.label_image(n, rng.choice(sorted(sc.images[n])), {rng.choice(CONTENT_REF_KEYS): b})

    def op_delete_content() -> None:
        n = ns()
        if sc.blobs.get(n):
            sc.delete_content(n, rng.choice(sc.blobs[n]))

    def op_remove_snapshot() -> None:
        n = ns()
        # Active snapshots and views have no children; containers' snapshots are left alone.
        pool = [s for s in sc.snapshots.get(n, []) if s[1] not in sc.containers.get(n, [])]
        if pool:
            sn, key = rng.choice(pool)
            sc.remove_snapshot(n, key, snapshotter=sn)

    def op_delete_lease() -> None:
        n = ns()
        if sc.leases.get(n):
            sc.delete_lease(n, rng.choice(sc.leases[n]))

    def op_ingest() -> None:
        n = ns()
        ref = odd_name(rng, sc._unique("stalled-"))
        if rng.random() < 0.5:
            sc.stall_ingest(n, ref)
        else:
            sc.leased_write(n, ref, b"y" * 50, 500, None)

    ops = [(op_import, 4), (op_remove_image, 2), (op_container, 2), (op_delete_container, 1),
           (op_snapshot, 2), (op_label_snapshot, 2), (op_blob, 2), (op_label_content, 3),
           (op_lease, 3), (op_delete_lease, 1), (op_ingest, 1), (op_label_image, 1),
           (op_delete_content, 1), (op_remove_snapshot, 1)]
    funcs, weights = zip(*ops)
    op_import()
    for _ in range(n_ops):
        rng.choices(funcs, weights)[0]()
