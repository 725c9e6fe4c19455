"""The bbolt reader and OfflineContainerdRoot against a meta.db written by a real daemon.

Everything the offline view says is compared with what the daemon itself reported
(``ctr content ls``, ``ctr namespaces ls``, ``ctr content active``, ``ctr leases ls`` and
the gRPC Info/Status) before it was stopped.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from store import Digest, bolt, errors
from store.containerd import GC_ROOT, ContainerdStore, OfflineContainerdRoot

pytestmark = pytest.mark.integration


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _populate(d):
    """Two namespaces with labelled blobs, a leased and an unleased ingest, a lease, namespace labels."""
    default = ContainerdStore(d.address, "default")
    other = default.with_namespace("other")
    d.ctr("namespaces", "create", "other", "team=blobscope", "tier=test")
    for i in range(30):
        data = f"default blob {i}\n".encode() * (i + 1)
        with default.writer(f"d{i}", total=len(data)) as w:
            w.write(data)
            w.commit(len(data), labels={"index": str(i), "org.example/kind": "x" if i % 2 else "y"})
    big = os.urandom(300_000)  # values and buckets beyond one page
    with default.writer("big") as w:
        w.write(big)
        w.commit(labels={f"k{j:03d}": "v" * 200 for j in range(40)})
    # Enough small records that the daemon's blob bucket spills into branch pages.
    lease = default.create_lease()
    leased = default.with_lease(lease)

    def small(i):
        data = f"filler {i}\n".encode()
        with leased.writer(f"f{i}") as w:
            w.write(data)
            w.commit(labels={"filler": str(i)})

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(small, range(400)))
    default.delete_lease(lease)
    with other.writer("o1") as w:
        w.write(b"only in other\n")
        w.commit(labels={"where": "other"})
    # A leased ingest (our writer, closed) and an unleased one (ctr, killed mid-way).
    w = default.writer("leased/ingest:1")
    w.write(b"partial data " * 100)
    w.close()
    p = d.ctr_popen("content", "ingest", "--expected-size", "100000", "unleased-ingest")
    p.stdin.write(b"y" * 5000)
    p.stdin.flush()
    time.sleep(1.0)
    p.send_signal(signal.SIGKILL)
    p.wait()
    d.ctr("leases", "create", "--id", "keep-me", "purpose=test")
    return default, other


def test_offline_root_matches_what_the_daemon_reported(containerd):
    d = containerd
    default, other = _populate(d)

    reported = {
        "namespaces": [line.split()[0] for line in d.ctr("namespaces", "ls").stdout.splitlines()[1:] if line.strip()],
        "ls": {ns: d.content_ls(namespace=ns) for ns in ("default", "other")},
        "info": {ns: {i.digest: s.info(i.digest) for i in s.walk()} for ns, s in
                 (("default", default), ("other", other))},
        "active": {line.split()[0] for line in d.ctr("content", "active").stdout.splitlines()[1:] if line.strip()},
        "statuses": {s.ref: s for s in default.list_statuses()},
        "leases": {line.split()[0]: line.split()[-1] for line in d.ctr("leases", "ls").stdout.splitlines()[1:]
                   if line.strip()},
    }
    assert reported["active"] == {"leased/ingest:1", "unleased-ingest"}
    assert "keep-me" in reported["leases"]

    # While the daemon runs, its meta.db is locked: refuse, name the daemon, point at the socket.
    with pytest.raises(bolt.DatabaseLocked) as exc:
        OfflineContainerdRoot(d.root)
    assert exc.value.holder_pid == d.pid
    assert exc.value.address == d.address  # found from the daemon's command line and config
    assert f"blobctl --address {d.address}" in str(exc.value)
    ContainerdStore(exc.value.address).ping()  # ... and it answers there

    default.close()
    d.stop()
    meta = d.root / "io.containerd.metadata.v1.bolt" / "meta.db"
    meta_before = (_sha(meta), meta.stat().st_mtime_ns)

    with OfflineContainerdRoot(d.content_root) as root:  # the content dir is accepted too
        assert root.list_namespaces() == sorted(reported["namespaces"]) == ["default", "other"]
        assert root.namespace_labels("other") == {"team": "blobscope", "tier": "test"}
        assert root.metadata.version == 3  # containerd 1.6's schema v1, DB version 3 (containerd-store.md §6.3)
        # The daemon's file exercises the reader: branch pages under the blob bucket, non-inline buckets.
        blob_bucket = root.metadata.db.root.bucket(b"v1", b"default", b"content", b"blob")
        _page, flags, _count = root.metadata.db.page(blob_bucket._root)
        assert flags & bolt.BRANCH_PAGE

        for ns in ("default", "other"):
            view = root.store(ns)
            infos = {i.digest: i for i in view.walk()}
            # Same records and labels as `ctr content ls`, and the exact gRPC Info (ns timestamps).
            assert set(infos) == set(reported["ls"][ns])
            assert {k: v.labels for k, v in infos.items()} == {k: v["labels"] for k, v in reported["ls"][ns].items()}
            for digest, info in reported["info"][ns].items():
                got = view.info(digest)
                assert (got.size, got.created_at.ns, got.updated_at.ns, got.labels) == \
                    (info.size, info.created_at.ns, info.updated_at.ns, info.labels)
                assert GC_ROOT in got.labels
            for digest in list(infos)[:5]:
                with view.reader_at(digest) as r:
                    assert Digest.from_bytes(r.read_at(r.size, 0)) == digest
            assert view.read_only and "offline containerd root" in view.read_only_reason
            # Filters are the daemon's syntax; usage counts what walk and list_statuses show.
            assert {i.digest for i in view.walk("labels.index==3", "labels.where==other")} == {
                k for k, v in infos.items() if v.labels.get("index") == "3" or v.labels.get("where") == "other"}
            usage = view.usage()
            assert (usage["blob_count"], usage["blob_bytes"]) == (len(infos), sum(i.size for i in infos.values()))

        only_other = next(iter(reported["ls"]["other"]))
        assert root.namespaces_with(only_other) == ["other"]
        with pytest.raises(errors.NotFound, match=f"content digest {only_other}"):
            root.store("default").info(only_other)
        with pytest.raises(errors.NotFound, match="namespace nope does not exist"):
            root.store("nope")

        # Ingests: the daemon's refs, with the offsets it reported over gRPC.
        statuses = {s.ref: s for s in root.store("default").list_statuses()}
        assert set(statuses) == reported["active"]
        assert [s.ref for s in root.store("default").list_statuses("ref==unleased-ingest")] == ["unleased-ingest"]
        assert root.store("default").usage()["ingest_count"] == 2
        leased = statuses["leased/ingest:1"]
        assert (leased.offset, leased.started_at.ns) == (reported["statuses"]["leased/ingest:1"].offset,
                                                         reported["statuses"]["leased/ingest:1"].started_at.ns)
        records = {r.ref: r for r in root.metadata.ingests("default")}
        assert records["leased/ingest:1"].expire_at is None  # held by our writer's lease
        assert records["unleased-ingest"].expire_at is not None  # ctr's ingest: now + 24 h
        assert records["unleased-ingest"].backend_ref.startswith("default/")
        assert records["unleased-ingest"].backend_ref.endswith("/unleased-ingest")

        leases = {lease.id: lease for lease in root.leases("default")}
        assert set(leases) == set(reported["leases"])
        # `ctr leases ls` prints labels as k=v joined by ","; ctr adds a 24 h gc.expire of its own.
        assert leases["keep-me"].labels == dict(kv.split("=", 1) for kv in reported["leases"]["keep-me"].split(","))
        assert leases["keep-me"].labels["purpose"] == "test" and "containerd.io/gc.expire" in leases["keep-me"].labels
        assert any("leased/ingest:1" in lease.ingests for lease in leases.values())

        # Every change is refused with a sentence.
        view = root.store("default")
        some = next(iter(reported["ls"]["default"]))
        for action in (lambda: view.delete(some), lambda: view.writer("x"), lambda: view.abort("unleased-ingest"),
                       lambda: view.update(view.info(some), "labels")):
            with pytest.raises(errors.FailedPrecondition, match="offline containerd root"):
                action()

    # Nothing was written to the daemon's files, and the daemon starts fine on them again.
    assert (_sha(meta), meta.stat().st_mtime_ns) == meta_before
    d.start()
    again = ContainerdStore(d.address, "default")
    assert {i.digest for i in again.walk()} == set(reported["ls"]["default"])
    again.close()


def test_not_a_containerd_root(tmp_path):
    with pytest.raises(errors.NotFound, match="is not a containerd root"):
        OfflineContainerdRoot(tmp_path)


def test_open_source_decides_like_the_user_means(containerd, tmp_path):
    from store import LocalStore
    from store.containerd.sources import open_source

    d = containerd
    live = open_source(d.address, namespace="default")
    assert isinstance(live, ContainerdStore)
    dg = live.import_file(_file(tmp_path, b"source test\n")).digest
    assert isinstance(open_source(f"unix://{d.address}"), ContainerdStore)
    with pytest.raises(bolt.DatabaseLocked) as exc:  # the daemon runs: offer its socket instead
        open_source(d.root)
    assert exc.value.address == d.address
    live.close()
    d.stop()
    for target in (d.root, d.content_root):
        view = open_source(target)
        assert view.read_only and view.info(dg).labels.keys() == {GC_ROOT}
        view.close()
    with pytest.raises(errors.FailedPrecondition, match="belongs to containerd"):
        open_source(d.root, writable=True)
    plain = open_source(tmp_path / "plain-store")
    assert isinstance(plain, LocalStore) and not plain.read_only
    with pytest.raises(errors.InvalidArgument, match="has no namespaces"):
        open_source(tmp_path / "plain-store", namespace="k8s.io")


def _file(tmp_path, data: bytes):
    p = tmp_path / "src.bin"
    p.write_bytes(data)
    return p
