"""Real OpenSSH servers on loopback for the fleet tests, each in front of a private containerd.

``SshServer`` runs Debian's ``/usr/sbin/sshd -D -e -f <private sshd_config>``: a host key made
for this run, ``ListenAddress 127.0.0.1`` on a free port, a private ``AuthorizedKeysFile`` and
``PidFile``, ``UsePAM no``, root by key only (``AllowUsers root``).  The machine's own sshd, its
service and ``/etc/ssh`` are never used or touched; the only shared path is ``/run/sshd``, the
empty privilege-separation directory compiled into sshd, created if missing (as the package's
service would).

``SshClient`` is the operator's side: a key made for this run, a private ``known_hosts`` and an
``ssh_config`` passed with ``-F`` / ``--ssh-config`` (``GlobalKnownHostsFile /dev/null``,
``IdentitiesOnly``), so ``~/.ssh`` is never read.

``FleetLab`` puts N (ContainerdDaemon, SshServer) pairs together and writes a fleet file.

Like ``ContainerdDaemon``, every sshd runs in its own session under ``setpriv --pdeathsig TERM``,
is registered for an ``atexit`` kill, and is stopped by its PID.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from .containerd import ContainerdDaemon

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
PRIVSEP_DIR = Path("/run/sshd")
SETPRIV = shutil.which("setpriv")

_live: dict[int, subprocess.Popen] = {}
_live_lock = threading.Lock()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    with _live_lock:
        _live.pop(proc.pid, None)


def _stop_all() -> None:
    with _live_lock:
        procs = list(_live.values())
    for p in procs:
        _stop(p)


atexit.register(_stop_all)


def _descendants(pid: int) -> list[int]:
    """The pids of ``pid``'s children, grandchildren... (sshd's per-connection processes)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def _signal_descendants(pid: int, sig: int) -> None:
    for child in _descendants(pid):
        try:
            os.kill(child, sig)
        except ProcessLookupError:
            pass


def keygen(path: Path) -> Path:
    """A new ed25519 key without passphrase at ``path`` (and ``path.pub``)."""
    for p in (path, path.with_suffix(".pub")):
        if p.exists():
            p.unlink()
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True,
                   capture_output=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fingerprint(pub: Path) -> str:
    """``SHA256:...`` of a public key file."""
    out = subprocess.run([SSH_KEYGEN, "-lf", str(pub)], check=True, capture_output=True, text=True).stdout
    return next(w for w in out.split() if w.startswith("SHA256:"))


class SshServer:
    """One sshd on 127.0.0.1:``port``; see the module doc."""

    def __init__(self, base: Path, authorized_keys: Path, *, name: str = "sshd",
                 extra_config: tuple[str, ...] = ()) -> None:
        """``extra_config``: more sshd_config lines (a benchmark's ``SetEnv``); :meth:`restart` applies
        a changed one."""
        self.base = Path(base, name)
        self.extra_config = tuple(extra_config)
        self.base.mkdir(parents=True, exist_ok=True)
        self.authorized_keys = authorized_keys
        self.host_key = keygen(self.base / "host_ed25519")
        self.config_path = self.base / "sshd_config"
        self.log_path = self.base / "sshd.log"
        self.port = 0
        self._proc: subprocess.Popen | None = None

    @property
    def host_key_fingerprint(self) -> str:
        return fingerprint(self.host_key.with_suffix(".pub"))

    def known_hosts_line(self) -> str:
        kind, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {blob}\n"

    def new_host_key(self) -> None:
        """Give the server a new host key (a reinstalled node, or someone in between); restarts it."""
        running = self.running
        self.stop()
        keygen(self.host_key)
        if running:
            self.start(port=self.port)

    def _write_config(self) -> None:
        self.config_path.write_text("\n".join([
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            f"PidFile {self.base / 'sshd.pid'}",
            "UsePAM no",
            "StrictModes no",  # the private files live under pytest's temp dirs
            "PermitRootLogin prohibit-password",
            "AllowUsers root",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            # -L to a unix socket needs both (sshd grants no channel at all with AllowTcpForwarding no)
            "AllowStreamLocalForwarding local",
            "AllowTcpForwarding local",
            "X11Forwarding no",
            "PermitTTY no",
            "MaxStartups 100",
            "LogLevel INFO",
            *self.extra_config,
            "",
        ]))

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running else None

    def start(self, *, port: int | None = None) -> "SshServer":
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        for _attempt in range(5):
            self.port = port or free_port()
            self._write_config()
            argv = [SSHD, "-D", "-e", "-f", str(self.config_path)]
            if SETPRIV:
                argv = [SETPRIV, "--pdeathsig", "TERM", "--", *argv]
            log = open(self.log_path, "ab")
            try:
                self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True)
            finally:
                log.close()
            with _live_lock:
                _live[self._proc.pid] = self._proc
            if self._wait_ready():
                return self
            self.stop()
            if port:  # a fixed port (a restart) that is taken: no point in trying others
                break
        raise RuntimeError(f"sshd did not start on 127.0.0.1:{self.port}; log:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def restart(self) -> "SshServer":
        """Stop and start again on the same port and host key (a changed ``extra_config``)."""
        self.stop()
        return self.start(port=self.port)

    def kill(self) -> None:
        """SIGKILL the listening sshd and every session it forked (a node whose sshd dies)."""
        if self._proc is not None:
            # the per-connection processes may have left the group: kill them by pid, found as
            # children while their parent still lives
            _signal_descendants(self._proc.pid, signal.SIGKILL)
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _stop(self._proc)
            self._proc = None

    def stop(self) -> None:
        if self._proc is not None:
            _signal_descendants(self._proc.pid, signal.SIGTERM)
            _stop(self._proc)
            self._proc = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class SshClient:
    """The operator's side: a key, a known_hosts and an ssh_config, all private to the run."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base, "client")
        self.base.mkdir(parents=True, exist_ok=True)
        self.key = keygen(self.base / "id_ed25519")
        self.authorized_keys = self.base / "authorized_keys"
        self.authorized_keys.write_text(self.key.with_suffix(".pub").read_text())
        self.known_hosts = self.base / "known_hosts"
        self.known_hosts.write_text("")
        self.config = self.base / "ssh_config"
        self.config.write_text("\n".join([
            "Host *",
            f"  UserKnownHostsFile {self.known_hosts}",
            "  GlobalKnownHostsFile /dev/null",
            f"  IdentityFile {self.key}",
            "  IdentitiesOnly yes",
            "  IdentityAgent none",
            "  LogLevel ERROR",
            "",
        ]))

    def trust(self, server: SshServer) -> None:
        with open(self.known_hosts, "a") as f:
            f.write(server.known_hosts_line())


class FleetLab:
    """N nodes on loopback: each a private containerd behind its own sshd; one client; a fleet file."""

    def __init__(self, base: os.PathLike | str, count: int, *, user: str = "root",
                 seed_root: Path | None = None, daemon_options: dict | None = None) -> None:
        """``seed_root``: a stopped daemon's root copied into each node's root before it starts
        (the same blobs on every node without writing them N times); ``daemon_options``: more
        ``ContainerdDaemon`` arguments for every node (a GC scheduler, say)."""
        self.base = Path(base)
        self.client = SshClient(self.base)
        self.daemons: list[ContainerdDaemon] = []
        self.servers: list[SshServer] = []
        self.user = user
        try:
            for i in range(count):
                daemon = ContainerdDaemon(self.base, name=f"ctrd{i}", **(daemon_options or {}))
                if seed_root is not None:
                    shutil.copytree(seed_root, daemon.root, symlinks=True)
                self.daemons.append(daemon.start())
                server = SshServer(self.base, self.client.authorized_keys, name=f"sshd{i}").start()
                self.servers.append(server)
                self.client.trust(server)
        except BaseException:
            self.close()
            raise

    def address(self, i: int, *, user: str | None = None, socket_path: str | None = None) -> str:
        return (f"ssh://{user or self.user}@127.0.0.1:{self.servers[i].port}"
                f"{socket_path or self.daemons[i].address}")

    def write_fleet(self, path: Path, indices=None) -> list[str]:
        names = [self.address(i) for i in (indices if indices is not None else range(len(self.servers)))]
        path.write_text("# fleet of the test run\n\n" + "\n".join(names) + "\n")
        return names

    def close(self) -> None:
        for s in self.servers:
            s.stop()
        for d in self.daemons:
            d.close()

    def __enter__(self) -> "FleetLab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def put_blob(daemon, data: bytes, tmp: Path) -> str:
    """A blob on ``daemon`` kept by gc.root, written through its own socket (not a tunnel)."""
    from store import Digest
    from store.containerd import ContainerdStore
    f = tmp / Digest.from_bytes(data).encoded
    f.write_bytes(data)
    with ContainerdStore(daemon.address) as s:
        return str(s.import_file(f).digest)


def ssh_clients(config: Path) -> list[str]:
    """Pids of the ssh clients still alive that use ``config`` (a test run's private ssh_config)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path("/proc", pid, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"ssh") and str(config).encode() in cmd:
            found.append(pid)
    return found
