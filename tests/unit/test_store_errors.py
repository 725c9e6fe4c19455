"""Every error row of containerd-store.md §1.5, Blobscope's deliberate differences, and path tricks."""

from __future__ import annotations

import os

import pytest

from store import Digest, Info, errors
from store.timestamps import Timestamp

BAD_DIGESTS = [
    ("sha256:../../etc/passwd", "invalid checksum digest length"),
    ("sha256:" + "A" * 64, "invalid checksum digest format"),
    ("sha256:" + "a" * 63, "invalid checksum digest length"),
    ("sha256:" + "../" * 21 + "a", "invalid checksum digest format"),
    ("", "invalid checksum digest format"),
    ("sha256:", "invalid checksum digest format"),
    (":abc", "invalid checksum digest format"),
    ("md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm"),
    ("../x:abc", "invalid checksum digest format"),
    ("sha1:/etc/passwd", "invalid checksum digest format"),
]


def snapshot(root):
    return sorted((p, os.lstat(os.path.join(p, f)).st_mtime_ns if f else 0)
                  for p, dirs, files in os.walk(root) for f in files + dirs + [""])


@pytest.mark.parametrize("text,why", BAD_DIGESTS)
def test_bad_digest_is_invalid_argument_and_touches_nothing(store, sh, text, why):
    sh.write_blob(store, "a", b"something")
    before = snapshot(store.root)
    calls = {
        "calculating blob info path": lambda: store.info(text),
        "calculating blob path for update": lambda: store.update(_info_with_digest(text)),
        "calculating blob path for ReaderAt": lambda: store.reader_at(text),
        "calculating blob path for delete": lambda: store.delete(text),
        "calculating expected blob path for writer": lambda: store.writer("r", expected=text),
    }
    if not text:
        del calls["calculating expected blob path for writer"]  # "" means "no expected digest" there
    for context, call in calls.items():
        with pytest.raises(errors.InvalidArgument) as exc:
            call()
        if text:
            assert str(exc.value) == (f"{context}: cannot calculate blob path from invalid digest: "
                                      f"{why}: invalid argument")
    assert snapshot(store.root) == before


def _info_with_digest(text):
    # Info validates its digest; build one around the check to reach the store's own validation.
    info = object.__new__(Info)
    object.__setattr__(info, "__dict__", {"digest": text, "size": 0, "created_at": Timestamp.now(),
                                          "updated_at": Timestamp.now(), "labels": {}})
    return info


def test_digest_parse_rejects_like_go_digest():
    for text, why in BAD_DIGESTS:
        with pytest.raises(errors.InvalidArgument, match=why):
            Digest.parse(text)
    assert Digest.parse("sha384:" + "0" * 96).algorithm == "sha384"


def test_writer_empty_ref(store):
    with pytest.raises(errors.InvalidArgument, match="^ref must not be empty: invalid argument$"):
        store.writer("")
    for call in (store.status, store.abort):
        with pytest.raises(errors.InvalidArgument, match="ref must not be empty"):
            call("")


def test_info_update_missing_blob_is_not_found(store):
    d = Digest.from_bytes(b"missing")
    with pytest.raises(errors.NotFound, match=f"^content {d}: not found$"):
        store.info(d)
    with pytest.raises(errors.NotFound, match=f"^content {d}: not found$"):
        store.update(Info(d, 0, Timestamp.now(), Timestamp.now(), {"a": "b"}))


def test_reader_at_missing_blob(store):
    d = Digest.from_bytes(b"missing")
    path = store.root / "blobs" / "sha256" / d.encoded
    with pytest.raises(errors.NotFound, match=f"^blob {d} expected at {path}: blob not found: not found$"):
        store.reader_at(d)


def test_update_bad_fieldpath(store, sh):
    d = sh.write_blob(store, "a", b"abc", labels={"x": "1"})
    with pytest.raises(errors.InvalidArgument,
                       match=f'^cannot update "size" field on content info "{d}": invalid argument$'):
        store.update(Info(d, 3, Timestamp.now(), Timestamp.now(), {"x": "2"}), "labels.x", "size")
    assert store.info(d).labels == {"x": "1"}  # nothing changed


def test_status_errors(store):
    store.writer("r").close()
    d = store.ingest_dir("r")
    (d / "updatedat").write_bytes(b"")
    with pytest.raises(errors.ContentError,
                       match=f"^could not read updatedat: could not parse timestamp file {d / 'updatedat'}: "):
        store.status("r")
    (d / "startedat").unlink()
    with pytest.raises(errors.NotFound,
                       match=f"^could not read startedat: open {d / 'startedat'}: no such file or directory"):
        store.status("r")
    (d / "ref").unlink()
    with pytest.raises(errors.NotFound, match=f"^open {d / 'ref'}: no such file or directory: not found$"):
        store.status("r")
    (d / "data").unlink()
    with pytest.raises(errors.NotFound, match=f"^stat {d / 'data'}: no such file or directory: not found$"):
        store.status("r")
    missing = store.ingest_dir("nothing")
    with pytest.raises(errors.NotFound, match=f"^stat {missing / 'data'}: no such file or directory"):
        store.status("nothing")


def test_status_after_commit_is_not_found(store):
    w = store.writer("r")
    w.write(b"x")
    w.commit(1)
    with pytest.raises(errors.NotFound):
        store.status("r")


def test_list_statuses_bad_filter(store):
    with pytest.raises(errors.InvalidArgument, match="filters: parse error"):
        store.list_statuses("ref==")
    with pytest.raises(errors.InvalidArgument, match="filters: parse error"):
        list(store.walk("size~=.*"))


def test_list_statuses_without_ingest_dir_is_empty(store):
    os.rmdir(store.ingest_root)
    assert store.list_statuses() == []  # as containerd >= 1.7.24
    store.writer("r").close()  # the writer re-creates ingest/
    assert [s.ref for s in store.list_statuses()] == ["r"]


def test_walk_without_blobs_dir_is_empty(store):
    """Deliberate: a fresh store walks as empty (containerd errors with lstat ... blobs)."""
    assert not (store.root / "blobs").exists()
    assert list(store.walk()) == []


# -- deliberate differences (design.md §4) -------------------------------------------------------

def test_delete_missing_is_not_found(store, sh):
    d = sh.write_blob(store, "a", b"abc", labels={"k": "v"})
    store.delete(d)
    assert not store.blob_path(d).exists() and store.labels.get(d) == {}
    with pytest.raises(errors.NotFound, match=f"^content {d}: not found$"):
        store.delete(d)


def test_abort_missing_is_not_found(store):
    w = store.writer("r")
    w.write(b"x")
    w.close()
    store.abort("r")
    assert not store.ingest_dir("r").exists()
    with pytest.raises(errors.NotFound, match="ingest ref 'r' not found"):
        store.abort("r")


def test_abort_does_not_take_the_lock_and_commit_then_fails(store):
    """As containerd: aborting under an open writer works; that writer's commit then fails."""
    w = store.writer("r")
    w.write(b"abc")
    store.abort("r")
    with pytest.raises(errors.ContentError, match="aborted"):
        w.commit(3)
    assert store.writer("r").status().offset == 0


def test_labels_deleted_with_blob_do_not_come_back(store, sh):
    d = sh.write_blob(store, "a", b"abc", labels={"k": "v"})
    store.delete(d)
    sh.write_blob(store, "b", b"abc")
    assert store.info(d).labels == {}


def test_error_strings_are_message_then_kind():
    assert str(errors.NotFound("content x")) == "content x: not found"
    assert str(errors.Unavailable("ref r locked")) == "ref r locked: unavailable"
    assert isinstance(errors.Cancelled("x"), errors.ContentError)
