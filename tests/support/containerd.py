"""A private containerd daemon for integration tests.

Debian's ``/usr/bin/containerd`` runs with a config written into a temp dir: root, state,
gRPC and ttrpc sockets all live there, the CRI plugin is disabled and the garbage
collector's startup delay is zero (design.md §7, "Testing with real parts").
The machine's ``/var/lib/containerd`` and ``/run/containerd`` are never used.

Usage::

    with ContainerdDaemon(tmp_path) as d:
        d.ctr("content", "ingest", "myref", input=b"hello")
        d.stop()            # now the content root can be read without a live daemon
        d.start()           # same root again

Every daemon started here is registered; an ``atexit`` hook (and a finalizer on the object)
kills whatever is still running, so a failing test or Ctrl-C never leaves a daemon behind;
and it runs under ``setpriv --pdeathsig TERM``, so even a SIGKILLed test process takes its
daemon with it (the kernel signals the daemon when the thread that started it ends).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

log = logging.getLogger(__name__)

CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
# setpriv --pdeathsig: the kernel SIGTERMs the daemon even if the test process is SIGKILLed.
SETPRIV = shutil.which("setpriv")
CONTENT_PLUGIN_DIR = "io.containerd.content.v1.content"
# Unix socket paths are limited to 107 bytes; keep a margin for the ".ttrpc" suffix.
_MAX_SOCKET_PATH = 100
_FORBIDDEN = (Path("/var/lib/containerd"), Path("/run/containerd"))

_live: dict[int, subprocess.Popen] = {}
_live_lock = threading.Lock()


def _kill_process_group(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM the daemon's session, SIGKILL it if it has not exited within ``timeout``."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                # The daemon leads its own session (setsid), so its pgid is its pid.
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                log.warning("containerd pid %d ignored %s", proc.pid, sig.name)
    else:
        proc.wait()
    with _live_lock:
        _live.pop(proc.pid, None)


def _kill_all_live() -> None:
    with _live_lock:
        procs = list(_live.values())
    for proc in procs:
        _kill_process_group(proc, 5.0)


atexit.register(_kill_all_live)


class CtrError(subprocess.CalledProcessError):
    """``ctr`` exited non-zero; the message includes its stderr so a failing test says why."""

    def __str__(self) -> str:
        err = self.stderr.decode(errors="replace") if isinstance(self.stderr, bytes) else self.stderr
        return f"{super().__str__()}\nstderr: {(err or '').strip()}"


class ContainerdDaemon:
    """A containerd daemon on a private root and socket under ``tmp_path``.

    Attributes: ``address`` (gRPC socket path), ``root`` (daemon root), ``content_root``
    (``root/io.containerd.content.v1.content``), ``state``, ``log_path``, ``config_path``,
    ``pid`` (None when stopped).
    """

    def __init__(self, tmp_path: os.PathLike | str, *, name: str = "containerd",
                 start_timeout: float = 30.0, extra_config: str = "",
                 gc_scheduler: dict[str, str] | None = None, disabled_plugins: tuple[str, ...] = ()) -> None:
        """``disabled_plugins``: plugin IDs disabled besides CRI (a daemon without a service)."""
        self.base = Path(tmp_path, name).resolve()
        for bad in _FORBIDDEN:
            if self.base == bad or bad in self.base.parents:
                raise ValueError(f"refusing to run a test daemon under {bad}")
        self.root = self.base / "root"
        self.state = self.base / "state"
        self.content_root = self.root / CONTENT_PLUGIN_DIR
        self.log_path = self.base / "containerd.log"
        self.config_path = self.base / "config.toml"
        sock_dir = self.base
        self._short_dir: Path | None = None
        if len(str(sock_dir / "containerd.sock.ttrpc")) > _MAX_SOCKET_PATH:
            # pytest's tmp_path can be too long for a unix socket; use a short private dir.
            self._short_dir = Path(tempfile.mkdtemp(prefix="ctrd-", dir="/tmp"))
            sock_dir = self._short_dir
        self.address = str(sock_dir / "containerd.sock")
        self.ttrpc_address = self.address + ".ttrpc"
        self.start_timeout = start_timeout
        self.extra_config = extra_config
        self.disabled_plugins = ("io.containerd.grpc.v1.cri", *disabled_plugins)
        # Keys of [plugins."io.containerd.gc.v1.scheduler"], as TOML values ('"0s"', "0", "1e-9").
        self.gc_scheduler = {"startup_delay": '"0s"', **(gc_scheduler or {})}
        self._proc: subprocess.Popen | None = None
        self._log_file = None
        # Kills the daemon if the object is dropped without stop() (e.g. an exception in setup).
        self._finalizer = weakref.finalize(self, ContainerdDaemon._finalize, self._short_dir, [None])

    # ------------------------------------------------------------------ lifecycle
    @staticmethod
    def _finalize(short_dir: Path | None, proc_box: list) -> None:
        proc = proc_box[0]
        if proc is not None:
            _kill_process_group(proc, 5.0)
        if short_dir is not None:
            shutil.rmtree(short_dir, ignore_errors=True)

    def _write_config(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            "\n".join([
                "version = 2",
                f'root = "{self.root}"',
                f'state = "{self.state}"',
                "disabled_plugins = [" + ", ".join(f'"{p}"' for p in self.disabled_plugins) + "]",
                "",
                "[grpc]",
                f'  address = "{self.address}"',
                "",
                "[ttrpc]",
                f'  address = "{self.ttrpc_address}"',
                "",
                # The GC's first pass 100 ms after start would delete freshly labelled blobs.
                '[plugins."io.containerd.gc.v1.scheduler"]',
                *(f"  {key} = {value}" for key, value in self.gc_scheduler.items()),
                "",
                # The opt plugin would otherwise create /opt/containerd on the host.
                '[plugins."io.containerd.internal.v1.opt"]',
                f'  path = "{self.base / "opt"}"',
                "",
                self.extra_config,
                "",
            ])
        )

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> "ContainerdDaemon":
        if self.running:
            return self
        self._write_config()
        for sock in (self.address, self.ttrpc_address):
            if os.path.exists(sock):
                os.unlink(sock)  # a stale socket would make the readiness check pass too early
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"---- starting {time.strftime('%H:%M:%S')} ----\n".encode())
        self._log_file.flush()
        argv = [CONTAINERD, "--config", str(self.config_path)]
        if SETPRIV:
            argv = [SETPRIV, "--pdeathsig", "TERM", "--", *argv]  # setpriv execs: same pid
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # setsid: Ctrl-C in the terminal does not reach it; we stop it
        )
        self._proc = proc
        with _live_lock:
            _live[proc.pid] = proc
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, ContainerdDaemon._finalize, self._short_dir, [proc])
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info("containerd pid %d serving on %s", proc.pid, self.address)
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"containerd exited with status {self._proc.returncode} before serving; "
                    f"log {self.log_path}:\n{self.log_tail()}")
            if os.path.exists(self.address):
                r = subprocess.run(
                    [CTR, "--address", self.address, "--connect-timeout", "2s", "version"],
                    capture_output=True, timeout=20,
                )
                out = r.stdout.decode(errors="replace")
                if r.returncode == 0 and "Server:" in out:
                    return
                last = r.stderr.decode(errors="replace")
            time.sleep(0.05)
        raise TimeoutError(
            f"containerd did not answer `ctr version` on {self.address} within "
            f"{self.start_timeout:.0f} s ({last.strip()}); log:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the daemon by PID (SIGTERM, SIGKILL after ``timeout``) and wait for it."""
        proc = self._proc
        if proc is not None:
            _kill_process_group(proc, timeout)
            self._proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._unmount_leftovers()

    def close(self) -> None:
        self.stop()
        self._finalizer()

    def _unmount_leftovers(self) -> None:
        """Unmount anything the daemon left mounted under its root or state (unpack mounts)."""
        try:
            mounts = Path("/proc/self/mounts").read_text().splitlines()
        except OSError:
            return
        ours = []
        for line in mounts:
            fields = line.split()
            if len(fields) < 2:
                continue
            target = fields[1].replace("\\040", " ")
            if target.startswith(str(self.base) + "/"):
                ours.append(target)
        for target in sorted(ours, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)

    def __enter__(self) -> "ContainerdDaemon":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ ctr
    def ctr_argv(self, *args: str, namespace: str = "default") -> list[str]:
        return [CTR, "--address", self.address, "-n", namespace, *map(str, args)]

    def ctr(self, *args, input: bytes | str | None = None, namespace: str = "default",
            check: bool = True, text: bool = True, timeout: float = 120.0
            ) -> subprocess.CompletedProcess:
        """Run ``ctr --address <sock> -n <namespace> ARGS``.

        ``input`` may be bytes or str.  Output is decoded to str unless ``text=False``
        (use that for ``content get``).  A non-zero exit raises :class:`CtrError` when ``check``.
        """
        if isinstance(input, str):
            input = input.encode()
        argv = self.ctr_argv(*args, namespace=namespace)
        r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
        if text:
            r = subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(errors="replace"),
                                            r.stderr.decode(errors="replace"))
        if check and r.returncode != 0:
            raise CtrError(r.returncode, argv, r.stdout, r.stderr)
        return r

    def ctr_popen(self, *args, namespace: str = "default", **kw) -> subprocess.Popen:
        """Start ``ctr`` without waiting (e.g. an ingest fed through a pipe and then killed)."""
        kw.setdefault("stdin", subprocess.PIPE)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.ctr_argv(*args, namespace=namespace), **kw)

    # ------------------------------------------------------------------ helpers
    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def content_ls(self, namespace: str = "default") -> dict[str, dict]:
        """``ctr content ls`` parsed: digest -> {"size_text", "labels": dict}."""
        out = self.ctr("content", "ls", namespace=namespace).stdout.splitlines()
        result = {}
        for line in out[1:]:
            parts = line.split()
            if not parts:
                continue
            digest, size_text, labels_text = parts[0], parts[1], parts[-1]
            labels = {}
            if labels_text != "-":
                for item in labels_text.split(","):
                    k, _, v = item.partition("=")
                    labels[k] = v
            result[digest] = {"size_text": size_text, "labels": labels}
        return result

    def content_digests(self, namespace: str = "default") -> set[str]:
        return set(self.ctr("content", "ls", "-q", namespace=namespace).stdout.split())

    def wait_for_gc(self, settle: float = 0.5, timeout: float = 10.0) -> None:
        """Let a pending garbage-collection pass finish (blob count stable for ``settle`` s)."""
        deadline = time.monotonic() + timeout
        blobs = self.content_root / "blobs"

        def snapshot():
            return sorted(str(p) for p in blobs.rglob("*")) if blobs.exists() else []

        prev = snapshot()
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            cur = snapshot()
            if cur != prev:
                prev, stable_since = cur, time.monotonic()
            elif time.monotonic() - stable_since >= settle:
                return
