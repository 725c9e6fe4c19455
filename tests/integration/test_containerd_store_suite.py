"""The store contract suite (containerd's content testsuite, cases 1-12) run against ContainerdStore.

The cases that behave the same through the daemon are the LocalStore suite's own test
functions, imported unchanged and given a ``store`` fixture that talks to a real daemon.
Where containerd's metadata layer (containerd-store.md §6.4) or Blobscope's containerd client behave
differently, the case is rewritten here and its docstring says what differs and why.

Like containerd's own suite for the metadata store, each test runs in a fresh namespace
under one lease, and the client adds no ``gc.root`` label of its own (``gc_root=False``),
so labels compare exactly.  The daemon runs with ``content_sharing_policy = "isolated"``:
with the default ("shared"), a writer whose expected digest another namespace already
holds starts at offset = size (containerd-store.md §6.4), and the suite's cases reuse the same bytes in
each namespace.  That sharing is tested on its own in test_containerd_store.py.
"""

from __future__ import annotations

import itertools

import pytest

from store import Digest, errors
from store.containerd import ContainerdStore
from tests.unit.test_store_suite import (  # noqa: F401  (collected here with our `store` fixture)
    ROOT_LABELS,
    test_labels,
    test_resume,
    test_resume_modes,
    test_small_blob,
    test_update_status,
    test_writer,
)

pytestmark = pytest.mark.integration

_names = itertools.count()
# Extra config for conftest's module-wide `daemon` (why: see the module docstring).
DAEMON_CONFIG = """
[plugins."io.containerd.metadata.v1.bolt"]
  content_sharing_policy = "isolated"
"""


@pytest.fixture
def store(daemon):
    """A ContainerdStore in a namespace of its own, writing under one test-long lease."""
    base = ContainerdStore(daemon.address, f"suite-{next(_names)}", gc_root=False)
    lease = base.create_lease()
    s = base.with_lease(lease)
    try:
        yield s
    finally:
        base.delete_lease(lease)
        base.close()


def _locked(store, ref):
    """The daemon reports the *backend* ref, ``<namespace>/<n>/<ref>``, in its lock message."""
    with pytest.raises(errors.Unavailable, match=rf"ref {store.namespace}/\d+/{ref} locked for "):
        store.writer(ref)


@pytest.mark.parametrize("i,use_expected", [(0, True), (1, False)])
def test_commit_exists(store, sh, i, use_expected):
    """Case 3.  Same kind as the local store.  Differences: with an expected digest the daemon
    says "blob with expected digest <d> exists" rather than "content <d>", and it has no ingest
    directory to look at, so "the ingest was dropped" is checked as Status -> NotFound."""
    data = sh.random_bytes(256, 20)
    d1 = sh.write_blob(store, "c1", data)
    ref = f"c1-commitexists-{i}"
    w = store.writer(ref)
    w.write(data)
    message = f"blob with expected digest {d1} exists" if use_expected else f"content {d1}"
    with pytest.raises(errors.AlreadyExists, match=message):
        w.commit(256, d1 if use_expected else None)
    with pytest.raises(errors.NotFound, match=f"reference {ref}"):
        store.status(ref)


def test_commit_error_state(store, sh):
    """Case 12 through the daemon.  Two deliberate differences from the local store:

    * the lock message names the backend ref ``<ns>/1/<ref>`` (metadata layer, containerd-store.md §6.3);
    * a commit that fails (wrong digest or size) *aborts* the ingest instead of leaving it
      resumable: the daemon would otherwise keep it until its lease ends (issue 7, item 2),
      so the next writer on the ref starts at offset 0.
    """
    c1 = sh.random_bytes(256, 50)
    d1 = sh.write_blob(store, "c1", c1)
    ref = "c1-commiterror-state"

    w = store.writer(ref)
    w.write(c1)
    _locked(store, ref)
    with pytest.raises(errors.AlreadyExists):
        w.commit(256, d1)

    w = store.writer(ref)  # lock released and ingest gone
    assert w.status().offset == 0
    w.write(c1)
    with pytest.raises(errors.AlreadyExists):
        w.commit(256, None)
    w.close()

    w = store.writer(ref)
    w.write(c1 + b"more")
    d2 = Digest.from_bytes(c1 + b"more")
    wrong = Digest.from_bytes(b"wrong")
    with pytest.raises(errors.FailedPrecondition, match=f"unexpected commit digest {d2}, expected {wrong}"):
        w.commit(260, wrong)
    with pytest.raises(errors.NotFound):  # aborted, not left behind
        store.status(ref)

    w = store.writer(ref)
    assert w.status().offset == 0
    w.write(c1 + b"more")
    # The metadata layer checks the size itself, with its own message (containerd-store.md §6.4).
    with pytest.raises(errors.FailedPrecondition, match=rf'"{ref}" failed size validation: 260 != 256'):
        w.commit(256, None)
    with pytest.raises(errors.NotFound):
        store.status(ref)

    w = store.writer(ref)
    w.write(c1 + b"more")
    _locked(store, ref)
    assert w.commit(260, None) == d2
    assert store.info(d2).size == 260

    w = store.writer(ref)  # fresh ingest
    assert w.status().offset == 0
    w.write(c1)
    with pytest.raises(errors.AlreadyExists):
        w.commit(256, d1)
    w.close()

    w = store.writer(ref)
    _locked(store, ref)
    w.truncate(0)
    w.close()
    w = store.writer(ref)
    w.truncate(0)
    assert w.status().offset == 0
    w.close()
    store.abort(ref)
    assert store.list_statuses() == []


# -- the error rows of tests/unit/test_store_errors.py, through the daemon ----------------------

from tests.unit.test_store_errors import BAD_DIGESTS  # noqa: E402


@pytest.mark.parametrize("text,why", BAD_DIGESTS)
def test_bad_digest_is_invalid_argument_and_changes_nothing(store, sh, text, why):
    """Same kind and reason as LocalStore; the message has no "calculating blob path" context
    (there is no path: the client refuses the digest before any call)."""
    sh.write_blob(store, "a", b"something")
    before = [(i.digest, i.labels) for i in store.walk()]
    calls = [lambda: store.info(text), lambda: store.reader_at(text), lambda: store.delete(text),
             lambda: store.verify(text)]
    if text:
        calls.append(lambda: store.writer("r", expected=text))
    for call in calls:
        with pytest.raises(errors.InvalidArgument, match=why):
            call()
    assert [(i.digest, i.labels) for i in store.walk()] == before
    assert store.list_statuses() == []


def test_empty_ref_is_refused_everywhere(store):
    for call in (store.writer, store.status, store.abort):
        with pytest.raises(errors.InvalidArgument, match="^ref must not be empty: invalid argument$"):
            call("")


def test_update_bad_fieldpath_changes_nothing(store, sh):
    d = sh.write_blob(store, "a", b"abc", labels={"x": "1"})
    info = store.info(d)
    with pytest.raises(errors.InvalidArgument, match=f'^cannot update "size" field on content info "{d}"'):
        store.update(info.__class__(d, 3, info.created_at, info.updated_at, {"x": "2"}), "labels.x", "size")
    assert store.info(d).labels == {"x": "1"}


def test_status_after_commit_is_not_found(store):
    w = store.writer("r")
    w.write(b"x")
    w.commit(1)
    with pytest.raises(errors.NotFound, match="reference r"):
        store.status("r")


def test_list_statuses_and_walk_bad_filter(store):
    """The daemon parses the filter: same kind and message shape as LocalStore's parser."""
    with pytest.raises(errors.InvalidArgument, match=r"^filters: parse error: \[ref==\]: "):
        store.list_statuses("ref==")
    with pytest.raises(errors.InvalidArgument, match="filters: parse error"):
        list(store.walk("labels.a=="))


def test_abort_under_an_open_writer_then_its_commit_fails(store):
    """As containerd and LocalStore: abort does not wait for the writer; that writer's commit then
    fails.  Through the daemon the failure is its raw rename error (kind Unknown), not "aborted".
    (Bytes unique to this test: if any namespace already had them, the daemon's backend would
    answer AlreadyExists, which the metadata layer tolerates, and the commit would succeed.)"""
    data = b"aborted under an open writer"
    w = store.writer("r")
    w.write(data)
    store.abort("r")
    with pytest.raises(errors.Unknown, match="rename .*: no such file or directory"):
        w.commit(len(data))
    assert store.writer("r").status().offset == 0
