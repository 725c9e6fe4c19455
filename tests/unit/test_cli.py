"""``blobctl``: every subcommand in-process (``main([...])``) and a few real ``python -m store`` runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from store import Digest, LocalStore, cli, humanfmt, paths
from store.timestamps import parse_rfc3339

REPO = Path(__file__).resolve().parents[2]


def write(store, data: bytes, labels=None, ref=None) -> Digest:
    d = Digest.from_bytes(data)
    with store.writer(ref or f"t-{d.encoded[:12]}", total=len(data), expected=d) as w:
        w.write(data)
        w.commit(len(data), d, labels=labels)
    return d


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "content"


@pytest.fixture
def store(root) -> LocalStore:
    return LocalStore(root)


@pytest.fixture
def blobs(store):
    return {
        "plain": write(store, b"plain bytes"),
        "flag": write(store, b"flagged", {"flag": "true", "b": "2", "a": "1"}),
        "root": write(store, b"rooted", {"containerd.io/gc.root": "2026-11-27"}),
    }


def run(capsys, root, *argv) -> tuple[int, str, str]:
    rc = cli.main(["--root", str(root), *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("blobctl: ") and "Traceback" not in err
    return err[len("blobctl: "):-1]


def stdin_from(monkeypatch, path: Path):
    f = open(path, "rb")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(f))
    return f


def stdin_pipe(monkeypatch, data: bytes):
    r, w = os.pipe()

    def feed():
        with open(w, "wb") as f:
            f.write(data)
    t = threading.Thread(target=feed)
    t.start()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(open(r, "rb")))
    return t


# --------------------------------------------------------------------------- ls

def test_ls_table_like_ctr(capsys, root, blobs):
    rc, out, err = run(capsys, root, "ls")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["DIGEST", "SIZE", "AGE", "LABELS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {str(d) for d in blobs.values()}
    assert rows[blobs["flag"]].endswith("a=1,b=2,flag=true")  # sorted k=v
    assert rows[blobs["plain"]].endswith(" -")
    assert "11 Bytes" in rows[blobs["plain"]]
    assert lines[1:] == sorted(lines[1:])  # walk order


def test_ls_quiet_json_and_filters(capsys, root, store, blobs):
    rc, out, _ = run(capsys, root, "ls", "-q")
    assert rc == 0 and out.split() == sorted(str(d) for d in blobs.values())

    rc, out, _ = run(capsys, root, "ls", "--json")
    doc = json.loads(out)
    assert [e["digest"] for e in doc] == sorted(str(d) for d in blobs.values())
    entry = next(e for e in doc if e["digest"] == blobs["flag"])
    assert set(entry) == {"digest", "size", "created_at", "updated_at", "labels"}
    info = store.info(blobs["flag"])
    assert entry["size"] == 7 and entry["labels"] == {"a": "1", "b": "2", "flag": "true"}
    assert list(entry["labels"]) == ["a", "b", "flag"]
    assert parse_rfc3339(entry["created_at"]) == info.created_at.ns
    assert entry["created_at"].endswith("Z")

    rc, out, _ = run(capsys, root, "ls", "-q", "labels.flag")
    assert out.split() == [blobs["flag"]]
    rc, out, _ = run(capsys, root, "ls", "-q", 'labels."containerd.io/gc.root"')
    assert out.split() == [blobs["root"]]
    rc, out, _ = run(capsys, root, "ls", "-q", "labels.flag,labels.a==2")  # AND
    assert out == ""
    rc, out, _ = run(capsys, root, "ls", "-q", "labels.flag", 'labels."containerd.io/gc.root"')  # OR
    assert sorted(out.split()) == sorted([blobs["flag"], blobs["root"]])
    rc, out, _ = run(capsys, root, "ls", "-q", f"digest~=^{blobs['plain'][:15]}")
    assert out.split() == [blobs["plain"]]


def test_ls_bad_filter_is_one_line_with_containerds_message(capsys, root, blobs):
    rc, out, err = run(capsys, root, "ls", "labels.a=b")
    assert rc == 1 and out == ""
    assert one_line_error(err) == 'filters: parse error: [labels.a >|=|< b]: unsupported operator "=": invalid argument'


def test_commands_on_a_missing_root_fail_without_creating_it(capsys, tmp_path, monkeypatch):
    missing = tmp_path / "nope"
    for argv in (["ls"], ["active"], ["du"], ["verify"], ["rm", str(Digest.from_bytes(b""))],
                 ["label", str(Digest.from_bytes(b"")), "a=b"], ["abort", "x"], ["get", str(Digest.from_bytes(b""))]):
        rc, out, err = run(capsys, missing, *argv)
        assert rc == 1 and f"there is no store at {missing} (no such directory)" in one_line_error(err)
    assert not missing.exists()
    monkeypatch.setenv("BLOBSCOPE_ROOT", str(missing))
    assert cli.main(["ls"]) == 1
    assert "there is no store yet at" in one_line_error(capsys.readouterr()[1])
    assert not missing.exists()


def test_ls_notes_stray_entries(capsys, root, store, blobs):
    (root / "blobs" / "sha256" / "not-a-digest").write_bytes(b"x")
    rc, out, err = run(capsys, root, "ls", "-q")
    assert rc == 0 and len(out.split()) == 3
    assert "1 entry" in err and "not blobs" in err


# --------------------------------------------------------------------------- active / abort

def test_active_lists_ingests_with_filter_and_json(capsys, root, store):
    with store.writer("layer-1", total=10) as w:
        w.write(b"abc")
    with store.writer("config-1") as w:
        w.write(b"")
    rc, out, err = run(capsys, root, "active")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["REF", "SIZE", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == ["config-1", "layer-1"]
    rc, out, _ = run(capsys, root, "active", "ref~=layer")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["layer-1"]
    rc, out, _ = run(capsys, root, "active", "--json", "ref==layer-1")
    (doc,) = json.loads(out)
    assert set(doc) == {"ref", "offset", "total", "expected", "started_at", "updated_at"}
    assert (doc["ref"], doc["offset"], doc["total"], doc["expected"]) == ("layer-1", 3, 10, None)
    assert parse_rfc3339(doc["started_at"]) == store.status("layer-1").started_at.ns
    rc, _, err = run(capsys, root, "active", "layer.*")  # a filter, not a regexp (containerd-store.md §8)
    assert rc == 1 and "parse error" in one_line_error(err)


def test_active_notes_broken_ingests_and_abort_broken_removes_them(capsys, root, store):
    (root / "ingest" / "junk").mkdir(parents=True)
    rc, out, err = run(capsys, root, "active")
    assert rc == 0 and out.splitlines() == ["REF   SIZE   AGE"]
    assert "1 damaged entry" in err
    rc, out, err = run(capsys, root, "abort", "--broken", "junk")
    assert rc == 0 and out == "junk\n"
    assert not (root / "ingest" / "junk").exists()


def test_abort_removes_ingests_and_skips_unknown_refs(capsys, root, store):
    with store.writer("r1") as w:
        w.write(b"x")
    with store.writer("default/1/../../x") as w:  # refs are names, hashed into the path, never paths
        w.write(b"y")
    rc, out, err = run(capsys, root, "abort", "r1", "never-there", "default/1/../../x")
    assert rc == 0 and out == "r1\ndefault/1/../../x\n"
    assert "no ingest 'never-there'; skipped" in err
    assert store.list_statuses() == []
    assert sorted(p.name for p in root.parent.iterdir()) == ["content"]


def test_abort_with_an_empty_ref_changes_nothing(capsys, root, store):
    with store.writer("keep") as w:
        w.write(b"x")
    rc, out, err = run(capsys, root, "abort", "keep", "")
    assert rc == 2 and out == "" and "ref must not be empty" in one_line_error(err)
    assert [s.ref for s in store.list_statuses()] == ["keep"]


# --------------------------------------------------------------------------- get

def test_get_writes_the_bytes(capsysbinary, root, store):
    data = os.urandom(3 << 20 | 123)
    d = write(store, data)
    rc = cli.main(["--root", str(root), "get", d])
    out, err = capsysbinary.readouterr()
    assert rc == 0 and out == data and err == b""


@pytest.mark.parametrize("arg,needle", [
    ("sha256:xyz", "invalid digest 'sha256:xyz': invalid checksum digest length: invalid argument"),
    ("sha256:../../etc/passwd", "invalid checksum digest"),
    ("md5:" + "0" * 32, "unsupported digest algorithm"),
    (str(Digest.from_bytes(b"absent")), "not found"),
])
def test_get_bad_or_missing_digest(capsys, root, store, arg, needle):
    rc, out, err = run(capsys, root, "get", arg)
    assert rc == 1 and out == ""
    assert needle in one_line_error(err)


# --------------------------------------------------------------------------- ingest

def test_ingest_from_stdin_commits_and_prints_the_digest(capsys, root, tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.write_bytes(b"hello ingest")
    d = Digest.from_bytes(b"hello ingest")
    stdin_from(monkeypatch, src)
    rc, out, err = run(capsys, root, "ingest", "myref", "--expected-size", "12", "--expected-digest", d)
    assert rc == 0 and out == f"{d}\n" and err == ""
    assert LocalStore(root).info(d).size == 12 and LocalStore(root).list_statuses() == []


def test_ingest_resumes_from_a_seekable_file(capsys, root, store, tmp_path, monkeypatch):
    data = os.urandom(3 << 20)
    src = tmp_path / "src"
    src.write_bytes(data)
    with store.writer("resume-me", total=len(data)) as w:
        w.write(data[: (1 << 20) + 7])  # an interrupted earlier run
    f = stdin_from(monkeypatch, src)
    rc, out, err = run(capsys, root, "ingest", "resume-me", "--expected-size", str(len(data)))
    assert rc == 0, err
    d = Digest.from_bytes(data)
    assert out == f"{d}\n"
    with store.reader_at(d) as r:
        assert r.read_all() == data
    f.close()


def test_ingest_resume_from_a_pipe_is_a_clear_error(capsys, root, store, monkeypatch):
    with store.writer("piped") as w:
        w.write(b"first half")
    t = stdin_pipe(monkeypatch, b"first half, second half")
    rc, out, err = run(capsys, root, "ingest", "piped")
    t.join()
    msg = one_line_error(err)
    assert rc == 1 and "cannot resume ingest 'piped'" in msg and "10 bytes" in msg and "abort" in msg
    assert store.status("piped").offset == 10  # untouched


def test_ingest_short_input_keeps_the_ingest(capsys, root, monkeypatch):
    t = stdin_pipe(monkeypatch, b"short")
    rc, out, err = run(capsys, root, "ingest", "short", "--expected-size", "100")
    t.join()
    assert rc == 1 and "failed to read expected number of bytes: unexpected EOF" in one_line_error(err)
    assert LocalStore(root).status("short").offset == 5


def test_ingest_wrong_digest_fails_and_existing_digest_succeeds_without_reading(capsys, root, store, monkeypatch):
    t = stdin_pipe(monkeypatch, b"some data")
    wrong = Digest.from_bytes(b"other data")
    rc, _, err = run(capsys, root, "ingest", "bad", "--expected-digest", wrong)
    t.join()
    assert rc == 1 and "unexpected commit digest" in one_line_error(err)
    assert not store.blob_path(wrong).exists()

    d = write(store, b"already here")
    t = stdin_pipe(monkeypatch, b"")
    rc, out, err = run(capsys, root, "ingest", "again", "--expected-digest", d)
    t.join()
    assert rc == 0 and out == f"{d}\n"
    assert [s.ref for s in store.list_statuses()] == ["bad"]


def test_ingest_bad_arguments(capsys, root, monkeypatch):
    t = stdin_pipe(monkeypatch, b"x")
    rc, _, err = run(capsys, root, "ingest", "r", "--expected-digest", "sha256:zz")
    t.join()
    assert rc == 1 and "invalid digest" in one_line_error(err)
    rc, _, err = run(capsys, root, "ingest", "")
    assert rc == 2 and "ref must not be empty" in one_line_error(err)
    rc, _, err = run(capsys, root, "ingest", "r", "--expected-size", "ten")
    assert rc == 2 and "invalid int value" in one_line_error(err)


def test_interrupted_ingest_is_kept_and_says_how_to_resume(capsys, root, monkeypatch):
    class Interrupting(io.RawIOBase):
        calls = 0

        def readable(self):
            return True

        def readinto(self, b):
            Interrupting.calls += 1
            if Interrupting.calls > 1:
                raise KeyboardInterrupt
            b[:4] = b"abcd"
            return 4

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Interrupting())))
    rc, _, err = run(capsys, root, "ingest", "ctrl-c")
    assert rc == 130
    assert "interrupted: ingest 'ctrl-c' is kept with 4 bytes" in one_line_error(err)
    assert LocalStore(root).status("ctrl-c").offset == 4


# --------------------------------------------------------------------------- import

def test_import_files_with_labels(capsys, root, tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"AAAA")
    b.write_bytes(os.urandom(100_000))
    rc, out, err = run(capsys, root, "import", str(a), str(b), "--label", "origin=test", "--label", "k=v=w")
    assert rc == 0 and err == ""  # no progress bar: stderr is not a terminal
    lines = out.splitlines()
    assert lines[0] == f"{Digest.from_bytes(b'AAAA')}  {a}"
    s = LocalStore(root)
    assert s.info(Digest.from_bytes(b"AAAA")).labels == {"origin": "test", "k": "v=w"}
    assert s.info(Digest.from_bytes(b.read_bytes())).size == 100_000


def test_import_shows_progress_only_on_a_terminal(root, tmp_path, monkeypatch):
    f = tmp_path / "big"
    f.write_bytes(os.urandom(1 << 20))

    class Tty(io.StringIO):
        def isatty(self):
            return True
    err, out = Tty(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    assert cli.main(["--root", str(root), "import", str(f)]) == 0
    assert "100.0%" in err.getvalue() and "\r" in err.getvalue()
    assert out.getvalue().startswith("sha256:")


def test_import_reports_each_failure_and_goes_on(capsys, root, tmp_path):
    good = tmp_path / "good"
    good.write_bytes(b"good")
    rc, out, err = run(capsys, root, "import", str(tmp_path / "missing"), str(good))
    assert rc == 1
    assert "missing" in one_line_error(err)
    assert out.startswith(str(Digest.from_bytes(b"good")))


def test_import_bad_labels_change_nothing(capsys, root, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"f")
    rc, _, err = run(capsys, root, "import", str(f), "--label", "novalue")
    assert rc == 2 and "is not KEY=VALUE" in one_line_error(err)
    rc, _, err = run(capsys, root, "import", str(f), "--label", "k=" + "v" * 5000)
    assert rc == 1 and "greater than maximum size" in one_line_error(err)
    assert not (root / "blobs").exists() or not any((root / "blobs").rglob("*"))


# --------------------------------------------------------------------------- rm / label

def test_rm_deletes_and_skips_missing_with_a_note(capsys, root, store, blobs):
    missing = Digest.from_bytes(b"missing")
    rc, out, err = run(capsys, root, "rm", blobs["plain"], missing)
    assert rc == 0 and out == f"{blobs['plain']}\n"
    assert f"{missing} is not in the store; skipped" in err
    assert not store.blob_path(blobs["plain"]).exists()


def test_rm_with_an_invalid_digest_deletes_nothing(capsys, root, store, blobs):
    rc, out, err = run(capsys, root, "rm", blobs["plain"], "sha256:../../etc/passwd")
    assert rc == 1 and out == ""
    assert "invalid digest" in one_line_error(err)
    assert store.blob_path(blobs["plain"]).exists()


def test_label_sets_removes_and_prints(capsys, root, store, blobs):
    d = blobs["flag"]
    rc, out, _ = run(capsys, root, "label", d, "new=x", "bare", "flag=", "a=one")
    assert rc == 0 and out == "a=one,b=2,bare=true,new=x\n"
    assert store.info(d).labels == {"a": "one", "b": "2", "bare": "true", "new": "x"}
    rc, out, _ = run(capsys, root, "label", d)
    assert out == "a=one,b=2,bare=true,new=x\n"
    rc, out, _ = run(capsys, root, "label", "--json", d, "b=")
    assert json.loads(out) == {"a": "one", "bare": "true", "new": "x"}
    rc, out, _ = run(capsys, root, "label", blobs["plain"])
    assert rc == 0 and out == "\n"


def test_label_errors(capsys, root, store, blobs):
    rc, _, err = run(capsys, root, "label", "nope", "a=b")
    assert rc == 1 and "invalid digest" in one_line_error(err)
    rc, _, err = run(capsys, root, "label", Digest.from_bytes(b"zzz"), "a=b")
    assert rc == 1 and "not found" in one_line_error(err)
    rc, _, err = run(capsys, root, "label", blobs["plain"], "=v")
    assert rc == 2 and "empty key" in one_line_error(err)
    rc, _, err = run(capsys, root, "label", blobs["plain"], "k=" + "x" * 4096)
    assert rc == 1 and "maximum size" in one_line_error(err)
    assert store.info(blobs["plain"]).labels == {}


# --------------------------------------------------------------------------- verify / du

def corrupt(store, d: Digest, data: bytes) -> None:
    path = store.blob_path(d)
    os.chmod(path, 0o644)
    path.write_bytes(data)
    os.chmod(path, 0o444)


def test_verify_all_good_then_a_mismatch(capsys, root, store, blobs):
    rc, out, err = run(capsys, root, "verify")
    assert rc == 0 and out == "" and "verified 3 blobs" in err and "all match" in err
    corrupt(store, blobs["flag"], b"tampered")
    rc, out, err = run(capsys, root, "verify")
    assert rc == 1 and out == f"MISMATCH  {blobs['flag']}\n"
    assert "1 do not match" in err
    rc, out, _ = run(capsys, root, "verify", "--json", "-j", "2")
    doc = {r["digest"]: r for r in json.loads(out)}
    assert doc[blobs["flag"]] == {"digest": blobs["flag"], "size": 8, "ok": False, "error": None}
    assert doc[blobs["plain"]]["ok"] is True


def test_verify_given_digests(capsys, root, store, blobs):
    rc, out, err = run(capsys, root, "verify", blobs["plain"])
    assert rc == 0 and "verified 1 blob " in err
    missing = Digest.from_bytes(b"missing")
    rc, out, err = run(capsys, root, "verify", blobs["plain"], missing)
    assert rc == 1 and out.startswith(f"ERROR     {missing}:") and "not found" in out
    rc, _, err = run(capsys, root, "verify", "sha256:short")
    assert rc == 1 and "invalid digest" in one_line_error(err)


def test_verify_many_blobs_in_parallel_finds_every_bad_one(capsys, root, store):
    ds = [write(store, os.urandom(50_000)) for _ in range(40)]
    for d in ds[::7]:
        corrupt(store, d, b"bad")
    rc, out, _ = run(capsys, root, "verify", "-j", "4")
    assert rc == 1
    assert sorted(out.split()[1::2]) == sorted(ds[::7])


def test_du_counts_blobs_and_ingests(capsys, root, store, blobs):
    with store.writer("partial") as w:
        w.write(b"12345")
    rc, out, _ = run(capsys, root, "du", "--json", "--no-graph")
    doc = json.loads(out)
    assert doc == {"blob_count": 3, "blob_bytes": 11 + 7 + 6, "ingest_count": 1, "ingest_bytes": 5,
                   "broken_ingest_count": 0}
    rc, out, _ = run(capsys, root, "du")
    lines = out.splitlines()
    assert lines[0].split() == ["COUNT", "SIZE", "BYTES"]
    assert lines[1].split()[:2] == ["blobs", "3"] and lines[1].split()[-1] == "24"
    assert lines[2].split()[:2] == ["ingests", "1"] and lines[2].split()[-1] == "5"


def test_du_adds_extension_figures(capsys, root, store, blobs, monkeypatch):
    monkeypatch.setattr(cli.common, "DU_FIGURES", [lambda s: {"special_bytes": 2048, "note_count": 7}])
    rc, out, _ = run(capsys, root, "du")
    assert "special bytes: 2.048 kB" in out and "note count: 7" in out
    rc, out, _ = run(capsys, root, "du", "--json")
    assert json.loads(out)["special_bytes"] == 2048


# --------------------------------------------------------------------------- read-only roots

@pytest.fixture
def containerd_root(tmp_path):
    content = tmp_path / "io.containerd.content.v1.content"
    s = LocalStore(content)
    d = write(s, b"owned by containerd")
    meta = tmp_path / "io.containerd.metadata.v1.bolt" / "meta.db"
    meta.parent.mkdir()
    meta.write_bytes(b"")
    return content, d


def test_containerd_root_is_read_only_without_force(capsys, containerd_root):
    content, d = containerd_root
    rc, out, _ = run(capsys, content, "ls", "-q")
    assert rc == 0 and out == f"{d}\n"
    for argv in (["rm", d], ["label", d, "a=b"], ["abort", "x"]):
        rc, out, err = run(capsys, content, *argv)
        msg = one_line_error(err)
        assert rc == 1 and "containerd" in msg and "--force" in msg, msg
    assert (content / "blobs" / "sha256" / d.encoded).exists()
    assert LocalStore(content, writable=True).info(d).labels == {}


def test_containerd_root_is_writable_with_force(capsys, containerd_root):
    content, d = containerd_root
    rc, out, err = run(capsys, content, "--force", "label", d, "a=b")
    assert rc == 0 and out == "a=b\n"
    rc, out, _err = cli.main(["rm", "--force", "--root", str(content), d]), *capsys.readouterr()
    assert rc == 0 and out == f"{d}\n"  # global options also after the subcommand
    assert not (content / "blobs" / "sha256" / d.encoded).exists()


# --------------------------------------------------------------------------- parser, extension, defaults

def test_version_help_and_usage_errors(capsys):
    assert cli.main(["--version"]) == 0
    out, _ = capsys.readouterr()
    from store import __version__
    assert out.strip() == f"blobctl {__version__}"
    assert cli.main(["--help"]) == 0
    out, _ = capsys.readouterr()
    for name in ("ls", "active", "get", "ingest", "import", "rm", "label", "abort", "verify", "du"):
        assert name in out
    assert cli.main([]) == 2
    assert "required: COMMAND" in one_line_error(capsys.readouterr()[1])
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in one_line_error(capsys.readouterr()[1])


def test_extensions_add_subcommands_through_the_table(capsys, root, blobs, monkeypatch):
    monkeypatch.setattr(cli.common, "COMMANDS", dict(cli.COMMANDS))

    @cli.command("count", help="count blobs", arguments=lambda p: p.add_argument("--twice", action="store_true"))
    def count(args, ctx):
        n = sum(1 for _ in ctx.store.walk())
        ctx.print(str(n * (2 if args.twice else 1)))
        return 0

    rc, out, _ = run(capsys, root, "count", "--twice")
    assert rc == 0 and out == "6\n"


def test_internal_errors_are_one_line(capsys, root, blobs, monkeypatch):
    monkeypatch.setattr(cli.common, "COMMANDS", dict(cli.COMMANDS))
    cli.command("boom", help="x")(lambda args, ctx: 1 / 0)
    rc, _, err = run(capsys, root, "boom")
    assert rc == 1 and "internal error: ZeroDivisionError" in one_line_error(err)


def test_default_root_comes_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("BLOBSCOPE_ROOT", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.default_store_dir() == tmp_path / "xdg" / "blobscope" / "store"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # ignored, as the XDG spec says
    assert paths.default_store_dir() == Path.home() / ".local" / "share" / "blobscope" / "store"
    store_dir = tmp_path / "env-store"
    d = write(LocalStore(store_dir), b"from env")
    monkeypatch.setenv("BLOBSCOPE_ROOT", str(store_dir))
    assert paths.default_store_dir() == store_dir
    assert cli.main(["ls", "-q"]) == 0
    assert capsys.readouterr()[0] == f"{d}\n"


def test_humanfmt_helpers():
    assert humanfmt.labels_text({"b": "2", "a": "1"}) == "a=1,b=2"
    assert humanfmt.labels_text({}) == "-"
    assert humanfmt.printable("a\x1b[31mb\nc\udcff") == "a\\x1b[31mb\\nc\\xff"
    assert humanfmt.size(1_048_576) == "1.049 MB"
    from store.timestamps import Timestamp
    assert humanfmt.rfc3339(Timestamp.from_ns(1_700_000_000_123_456_789)) == "2023-11-14T22:13:20.123456789Z"


def test_terminal_escapes_in_labels_are_not_printed_raw(capsys, root, store):
    write(store, b"evil", {"k": "\x1b]0;pwned\x07"})
    rc, out, _ = run(capsys, root, "ls")
    assert "\x1b" not in out and "\\x1b" in out


# --------------------------------------------------------------------------- real processes

def blobctl(*argv, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "store", *argv], cwd=REPO, env=env, capture_output=True,
                          timeout=120, **kw)


def test_subprocess_ls_get_and_errors(tmp_path, store, root, blobs):
    p = blobctl("--root", str(root), "ls", "-q")
    assert p.returncode == 0 and p.stdout.decode().split() == sorted(blobs.values())
    p = blobctl("--root", str(root), "get", blobs["flag"])
    assert p.returncode == 0 and p.stdout == b"flagged"
    for argv, code in ((["get", "sha256:bad"], 1), (["ls", "a=b"], 1), (["nope"], 2),
                       (["get", str(Digest.from_bytes(b"none"))], 1)):
        p = blobctl("--root", str(root), *argv)
        assert p.returncode == code
        err = p.stderr.decode()
        assert err.count("\n") == 1 and err.startswith("blobctl: ") and "Traceback" not in err, err
    p = blobctl("--version")
    assert p.returncode == 0 and p.stdout.decode().startswith("blobctl ")


def test_subprocess_ingest_resume_from_a_file_and_not_from_a_pipe(tmp_path, root, store):
    data = os.urandom(2 << 20)
    src = tmp_path / "data"
    src.write_bytes(data)
    with store.writer("job", total=len(data)) as w:
        w.write(data[:777_777])
    p = blobctl("--root", str(root), "ingest", "job", input=data)  # a pipe
    assert p.returncode == 1 and "cannot resume ingest 'job'" in p.stderr.decode()
    assert p.stderr.decode().count("\n") == 1
    with open(src, "rb") as f:
        p = blobctl("--root", str(root), "-v", "ingest", "job", "--expected-size", str(len(data)), stdin=f)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == f"{Digest.from_bytes(data)}\n"
    assert "resuming ingest 'job' at byte 777777" in p.stderr.decode()


def test_subprocess_read_only_root_and_force(tmp_path, containerd_root):
    content, d = containerd_root
    p = blobctl("--root", str(content), "rm", d)
    assert p.returncode == 1 and "--force" in p.stderr.decode() and p.stderr.decode().count("\n") == 1
    p = blobctl("--root", str(content), "--force", "rm", d)
    assert p.returncode == 0 and p.stdout.decode() == f"{d}\n"


def test_subprocess_broken_pipe_is_quiet(root, store):
    d = write(store, os.urandom(8 << 20))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "store", "--root", str(root), "get", d], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err == b""


def test_rfc3339_matches_the_store_timestamp_format():
    import random

    from store.timestamps import Timestamp, format_rfc3339
    rng = random.Random(7)
    for i in range(20_000):
        ns = rng.randrange(-62135596800 * 10**9, 253402300799 * 10**9)
        if i % 3 == 0:
            ns -= ns % 10**9  # whole seconds: no fraction at all
        assert humanfmt.rfc3339(Timestamp.from_ns(ns)) == format_rfc3339(ns)


def test_an_extension_missing_a_dependency_leaves_the_other_commands_working(capsys, root, blobs, tmp_path,
                                                                          monkeypatch):
    (tmp_path / "blobctl_ext_broken.py").write_text("import no_such_dependency_for_blobctl\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli.app, "_EXTENSIONS", ("blobctl_ext_broken", "blobctl_ext_absent"))
    rc, out, err = run(capsys, root, "ls", "-q")
    assert rc == 0 and len(out.split()) == 3
    assert "commands of blobctl_ext_broken are unavailable" in err


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

label_keys = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="="), min_size=1, max_size=12)
label_values = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(label_keys, label_values, min_size=1, max_size=4))
def test_labels_set_with_label_come_back_exactly_from_ls_json(capsys, tmp_path, labels):
    import tempfile
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "content"  # hypothesis reuses tmp_path between examples
    d = write(LocalStore(root), b"x")
    rc = cli.main(["--root", str(root), "label", d, "--", *(f"{k}={v}" for k, v in labels.items())])
    capsys.readouterr()
    assert rc == 0
    assert cli.main(["--root", str(root), "ls", "--json", filters_for(labels)]) == 0
    (entry,) = json.loads(capsys.readouterr()[0])
    assert entry["labels"] == labels


def filters_for(labels: dict) -> str:
    from store import filters
    return ",".join(filters.format_selector(("labels", k), "==", v) for k, v in labels.items())
