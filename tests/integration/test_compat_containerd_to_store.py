"""containerd -> Blobscope: a content root written by Debian's real containerd daemon reads back exactly.

The daemon creates blobs (``ctr content ingest`` with expected size/digest, ``ctr content
label``, ``ctr images import`` of a umoci image) and leaves interrupted ingests (a short input
with ``--expected-size``, and a ``ctr`` killed while its pipe was still open), in two
namespaces.  After the daemon stops, ``LocalStore`` must list exactly the blobs on disk and in
``ctr content ls`` (digest, size, bytes, times) and exactly the ingest directories (backend ref
``<ns>/1/<ref>``, offset, total, ``started_at`` equal to the ``startedat`` file to the
nanosecond) -- and must not write into a root that belongs to a containerd installation.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from tests.support.containerd import ContainerdDaemon
from tests.support.images import describe_layout, layout_blobs, make_oci_image

pytestmark = pytest.mark.integration


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tree(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, size and mtime: to prove nothing was written."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def _wait_for_data(daemon: ContainerdDaemon, backend_ref: str, minimum: int, timeout: float = 20) -> Path:
    """The ingest dir of ``backend_ref`` once its data file holds at least ``minimum`` bytes."""
    deadline = time.monotonic() + timeout
    ingest = daemon.content_root / "ingest"
    while time.monotonic() < deadline:
        for d in ingest.iterdir() if ingest.exists() else ():
            try:
                if (d / "ref").read_text() == backend_ref and (d / "data").stat().st_size >= minimum:
                    return d
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"no data reached the ingest of {backend_ref} within {timeout} s")


@pytest.fixture(scope="module")
def containerd_root(tmp_path_factory):
    """Run the daemon once, create everything, stop it; yield what was observed while it ran."""
    tmp = tmp_path_factory.mktemp("ctrd-compat")
    seen: dict = {"blobs": {}, "labels": {}, "gets": {}}
    archive = make_oci_image(tmp, name="example.org/fixture/busybox:1.0", platforms=("amd64", "arm64"))
    layout = archive.parent / "layout"
    seen["layout"] = describe_layout(layout)
    seen["layout_blobs"] = layout_blobs(layout)

    with ContainerdDaemon(tmp) as d:
        # The import's temporary lease ends with a GC pass; let it finish before adding loose blobs.
        d.ctr("images", "import", "--all-platforms", str(archive))
        d.wait_for_gc()

        hello = b"hello world\n"
        big = os.urandom(3 * 1024 * 1024 + 17)   # several gRPC chunks
        for ref, data in (("hello-ref", hello), ("big-ref", big)):
            d.ctr("content", "ingest", "--expected-size", str(len(data)),
                  "--expected-digest", _sha(data), ref, input=data)
            seen["blobs"][_sha(data)] = data
        # A blob visible only in a second namespace: one file on disk, one record in "other".
        other = b"only in namespace other\n"
        d.ctr("content", "ingest", "--expected-digest", _sha(other), "other-blob", input=other,
              namespace="other")
        seen["blobs"][_sha(other)] = other

        d.ctr("content", "label", _sha(hello), "containerd.io/gc.root=compat", "team=blobscope")
        d.ctr("content", "label", _sha(big), "containerd.io/gc.root=compat", "size=big", "a.b.c=dots")
        d.ctr("content", "label", _sha(other), "containerd.io/gc.root=compat", namespace="other")

        # Interrupted ingest 1: short input with --expected-size; ctr fails, the ingest stays.
        short = os.urandom(3_000_000)
        r = d.ctr("content", "ingest", "--expected-size", "5000000", "short-ref", input=short, check=False)
        assert r.returncode != 0 and "unexpected EOF" in r.stderr
        seen["short"] = short

        # Interrupted ingest 2: ctr killed while its stdin pipe is still open.
        killed = os.urandom(3 * 1024 * 1024 + 123)
        p = d.ctr_popen("content", "ingest", "--expected-size", "8000000", "killed/ref:with-slash",
                        namespace="other")
        try:
            p.stdin.write(killed)
            p.stdin.flush()
            _wait_for_data(d, "other/1/killed/ref:with-slash", 3 * 1024 * 1024)
        finally:
            p.kill()
            p.wait()
        seen["killed"] = killed

        # What containerd itself says, captured before the daemon stops.
        seen["ls"] = {ns: d.content_ls(namespace=ns) for ns in ("default", "other")}
        for ns, listing in seen["ls"].items():
            for dg in listing:
                seen["gets"][dg] = d.ctr("content", "get", dg, namespace=ns, text=False).stdout
        seen["active"] = {ns: d.ctr("content", "active", namespace=ns).stdout for ns in ("default", "other")}
        d.stop()
        # Give the killed writer's Close (fsync + updatedat rewrite) no chance to race the reads below.
        content_root = d.content_root
    yield content_root, seen


def _disk_blobs(content_root: Path) -> dict[str, Path]:
    return {f"sha256:{p.name}": p for p in (content_root / "blobs" / "sha256").iterdir()}


def _disk_ingests(content_root: Path) -> dict[str, Path]:
    return {(d / "ref").read_text(): d for d in (content_root / "ingest").iterdir()}


def test_containerd_root_opens_read_only_and_untouched(containerd_root):
    from store import LocalStore

    content_root, _ = containerd_root
    assert (content_root.parent / "io.containerd.metadata.v1.bolt" / "meta.db").exists()
    before = _tree(content_root)
    s = LocalStore(content_root)
    assert s.read_only is True
    assert "meta.db" in (s.read_only_reason or "")
    list(s.walk())
    s.list_statuses()
    assert _tree(content_root).keys() == before.keys(), "opening a containerd root created files in it"


def test_blobs_match_disk_and_ctr(containerd_root):
    from store import LocalStore

    content_root, seen = containerd_root
    s = LocalStore(content_root)
    infos = {str(i.digest): i for i in s.walk()}
    on_disk = _disk_blobs(content_root)
    listed = set(seen["ls"]["default"]) | set(seen["ls"]["other"])

    assert set(infos) == set(on_disk) == listed
    # everything we created is there: loose blobs and every blob of the image
    assert set(seen["blobs"]) | set(seen["layout_blobs"]) <= set(infos)

    for dg, info in infos.items():
        st = on_disk[dg].stat()
        assert info.size == st.st_size
        assert info.created_at.ns == st.st_mtime_ns      # CreatedAt = mtime (spec 2.11)
        assert info.updated_at.ns == st.st_atime_ns      # UpdatedAt = atime
        assert s.info(dg).size == info.size
    for dg in infos:
        with s.reader_at(dg) as ra:
            assert ra.size == infos[dg].size
            data = ra.read_at(ra.size, 0)
        assert data == seen["gets"][dg], f"{dg}: bytes differ from `ctr content get`"
        assert _sha(data) == dg
        expected = seen["blobs"].get(dg, seen["layout_blobs"].get(dg))
        if expected is not None:
            assert data == expected
    for dg in seen["blobs"]:
        assert s.verify(dg) is True


def test_blob_reads_at_offsets(containerd_root):
    from store import LocalStore

    content_root, seen = containerd_root
    s = LocalStore(content_root)
    big = max(seen["blobs"].values(), key=len)
    with s.reader_at(_sha(big)) as ra:
        assert ra.read_at(10, 1024 * 1024 - 5) == big[1024 * 1024 - 5: 1024 * 1024 + 5]
        assert ra.read_at(100, len(big) - 7) == big[-7:]       # short read at the end
        assert ra.read_at(10, len(big)) == b""


def test_walk_filters_on_a_containerd_root(containerd_root):
    from store import LocalStore

    content_root, seen = containerd_root
    s = LocalStore(content_root)
    desc = seen["layout"]
    got = {str(i.digest) for i in s.walk(f"digest=={desc.index}")}
    assert got == {desc.index}


def test_ingests_match_disk_to_the_nanosecond(containerd_root):
    from store import LocalStore
    from store.timestamps import parse_rfc3339

    content_root, seen = containerd_root
    s = LocalStore(content_root)
    statuses = {st.ref: st for st in s.list_statuses()}
    on_disk = _disk_ingests(content_root)
    assert set(statuses) == set(on_disk) == {"default/1/short-ref", "other/1/killed/ref:with-slash"}
    assert s.broken_ingests() == []
    # ctr showed the user refs while the daemon ran
    assert "short-ref" in seen["active"]["default"]
    assert "killed/ref:with-slash" in seen["active"]["other"]

    for ref, st in statuses.items():
        d = on_disk[ref]
        assert d.name == hashlib.sha256(ref.encode()).hexdigest()
        data = (d / "data").read_bytes()
        assert st.offset == len(data) > 0, "the partial bytes must have reached the ingest dir"
        assert st.total == int((d / "total").read_text())
        assert st.started_at.ns == parse_rfc3339((d / "startedat").read_text())
        # UpdatedAt = the later of the updatedat file and the data file's mtime (spec 2.9)
        assert st.updated_at.ns == max(parse_rfc3339((d / "updatedat").read_text()),
                                       (d / "data").stat().st_mtime_ns)
        assert s.status(ref) == st
    short = statuses["default/1/short-ref"]
    assert (short.offset, short.total) == (len(seen["short"]), 5_000_000)
    assert (on_disk["default/1/short-ref"] / "data").read_bytes() == seen["short"]
    killed = statuses["other/1/killed/ref:with-slash"]
    assert killed.total == 8_000_000
    assert 3 * 1024 * 1024 <= killed.offset <= len(seen["killed"])
    assert (on_disk["other/1/killed/ref:with-slash"] / "data").read_bytes() == seen["killed"][:killed.offset]
    # the filter language applies to the backend ref
    assert [st.ref for st in s.list_statuses("ref~=^other/")] == ["other/1/killed/ref:with-slash"]


def test_metadata_labels_and_ingest_records_match_ctr(containerd_root):
    """The daemon's labels live in meta.db, not in the content root: store.bolt decodes them as ctr showed."""
    from store import LocalStore
    from store.bolt import open_metadata

    content_root, seen = containerd_root
    meta_db = content_root.parent / "io.containerd.metadata.v1.bolt" / "meta.db"
    before = meta_db.read_bytes()
    with open_metadata(meta_db) as md:
        assert set(md.namespaces()) >= {"default", "other"}
        for ns in ("default", "other"):
            records = {str(i.digest): i for i in md.blobs(ns)}
            assert set(records) == set(seen["ls"][ns])
            for dg, info in records.items():
                assert info.labels == seen["ls"][ns][dg]["labels"], f"{ns} {dg}"
                assert info.size == len(seen["gets"][dg])
        ingests = {(r.namespace, r.ref): r for ns in ("default", "other") for r in md.ingests(ns)}
    assert meta_db.read_bytes() == before, "reading meta.db changed it"
    assert set(ingests) == {("default", "short-ref"), ("other", "killed/ref:with-slash")}
    on_disk = {st.ref for st in LocalStore(content_root).list_statuses()}
    assert {r.backend_ref for r in ingests.values()} == on_disk
    # our labels as ctr shows them, including a key with dots
    big = max(seen["blobs"].values(), key=len)
    assert seen["ls"]["default"][_sha(big)]["labels"] == {
        "containerd.io/gc.root": "compat", "size": "big", "a.b.c": "dots"}


def test_python_finishes_an_ingest_the_daemon_left(containerd_root, tmp_path):
    """Resume the daemon's interrupted ingest (on a copy of its root), commit it; containerd's Go code agrees."""
    import shutil

    from store import LocalStore
    from tests.support import gopeer

    content_root, seen = containerd_root
    copy = tmp_path / "copy"
    shutil.copytree(content_root, copy, symlinks=True)
    s = LocalStore(copy)
    assert not s.read_only  # no meta.db next to the copy
    ref = "default/1/short-ref"
    before = s.status(ref)
    tail = os.urandom(before.total - before.offset)
    with s.writer(ref, total=before.total) as w:
        st = w.status()
        assert (st.offset, st.total, st.started_at.ns) == (before.offset, before.total, before.started_at.ns)
        w.write(tail)
        info_digest = _sha(seen["short"] + tail)
        w.commit(before.total, info_digest)
    assert s.verify(info_digest)
    assert {st.ref for st in s.list_statuses()} == {"other/1/killed/ref:with-slash"}

    py_blobs = {str(i.digest): i for i in s.walk()}
    go_blobs, go_ingests = gopeer.run_check(gopeer.gopeer_binary(), copy)
    assert set(go_blobs) == set(py_blobs) and go_blobs[info_digest]["read_ok"] is True
    assert go_blobs[info_digest]["size"] == before.total
    assert go_blobs[info_digest]["created_ns"] == py_blobs[info_digest].created_at.ns
    assert set(go_ingests) == {"other/1/killed/ref:with-slash"}


def test_containerds_go_code_and_python_agree_on_the_daemon_root(containerd_root):
    """Triangle: the daemon wrote it; containerd's content/local (gopeer) and LocalStore read the same."""
    from store import LocalStore
    from tests.support import gopeer

    content_root, _ = containerd_root
    s = LocalStore(content_root)
    py_blobs = {str(i.digest): i for i in s.walk()}  # before Go reads (reads move atime)
    py_ingests = {st.ref: st for st in s.list_statuses()}
    go_blobs, go_ingests = gopeer.run_check(gopeer.gopeer_binary(), content_root)
    assert set(go_blobs) == set(py_blobs)
    for dg, info in py_blobs.items():
        g = go_blobs[dg]
        assert g["read_ok"] is True
        assert (g["size"], g["created_ns"], g["updated_ns"]) == (info.size, info.created_at.ns, info.updated_at.ns)
    assert set(go_ingests) == set(py_ingests)
    for ref, st in py_ingests.items():
        g = go_ingests[ref]
        assert (g["offset"], g["total"], g["started_ns"], g["updated_ns"]) == (
            st.offset, st.total, st.started_at.ns, st.updated_at.ns)


def test_live_daemon_root_is_read_only_and_meta_db_is_not_copied_torn(containerd, tmp_path):
    """With the daemon running: LocalStore reads its root read-only; meta.db is refused while locked."""
    from store import LocalStore, errors
    from store.bolt import open_metadata

    data = b"live daemon blob\n"
    containerd.ctr("content", "ingest", "--expected-digest", _sha(data), "live", input=data)
    containerd.ctr("content", "label", _sha(data), "containerd.io/gc.root=live")
    s = LocalStore(containerd.content_root)
    assert s.read_only and "meta.db" in s.read_only_reason
    assert {str(i.digest) for i in s.walk()} == containerd.content_digests()
    with s.reader_at(_sha(data)) as ra:
        assert ra.read_at(ra.size, 0) == data
    with pytest.raises(errors.FailedPrecondition) as exc:
        s.delete(_sha(data))
    assert "containerd" in str(exc.value)
    assert containerd.content_digests() == {_sha(data)}
    meta_db = containerd.root / "io.containerd.metadata.v1.bolt" / "meta.db"
    with pytest.raises(errors.ContentError) as exc:
        open_metadata(meta_db)
    assert "lock" in str(exc.value).lower()


def test_offline_view_per_namespace_is_what_ctr_showed(containerd_root):
    """open_source on the stopped daemon's root: each namespace's blobs, labels and ingests as ctr listed them."""
    from store.containerd.sources import open_source

    content_root, seen = containerd_root
    for ns in ("default", "other"):
        view = open_source(content_root.parent, namespace=ns)
        try:
            infos = {str(i.digest): i for i in view.walk()}
            assert set(infos) == set(seen["ls"][ns])
            for dg, info in infos.items():
                assert info.labels == seen["ls"][ns][dg]["labels"], f"{ns} {dg}"
                with view.reader_at(dg) as ra:
                    assert ra.read_at(ra.size, 0) == seen["gets"][dg]
            refs = {st.ref: st for st in view.list_statuses()}
            # ctr content active printed the user refs (REF SIZE AGE)
            active = {line.split()[0] for line in seen["active"][ns].splitlines()[1:] if line.strip()}
            assert set(refs) == active
        finally:
            view.close()
    short = open_source(content_root.parent).status("short-ref")
    assert (short.offset, short.total) == (len(seen["short"]), 5_000_000)
