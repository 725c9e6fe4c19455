"""One node's containerd socket, forwarded to a private local socket by the OpenSSH client.

``ssh -N -L <local.sock>:<remote socket> [user@]host`` is run as a subprocess (docs/fleet.md says
why OpenSSH rather than a Python SSH library): the operator's ``ssh_config`` (aliases, ProxyJump,
Match), agent and known_hosts apply exactly as for their own ``ssh``.  The options fixed here
make it safe for a program: ``BatchMode`` (never a password or passphrase prompt),
``StrictHostKeyChecking=yes`` (an unknown or changed host key is refused, never added),
``ExitOnForwardFailure`` and ``ConnectTimeout``.  The address is validated (``address.py``) and
passed after ``--``, so nothing in it can become an ssh option.

The local socket lives in a private 0700 directory.  ``ssh`` runs in its own process group under
``setpriv --pdeathsig TERM``; :meth:`Tunnel.close` kills the group, and it runs on every exit
path (context manager, ``atexit``, a finalizer).  Note: the kernel's parent-death signal follows
the *thread* that started ssh, so a tunnel must be opened by a thread that outlives it (the
fleet runner opens and closes each tunnel in the same worker; a GUI keeps one long-lived thread
for its tunnels).

ssh's stderr goes to a file in the private directory and is only ever read for the one line
that explains a failure; ssh never sees a password (BatchMode) and no key material is read,
logged or stored by this module.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import errors
from .address import SshAddress

log = logging.getLogger(__name__)

SSH = "ssh"
SSH_KEYSCAN = "ssh-keyscan"
SSH_KEYGEN = "ssh-keygen"
SETPRIV = shutil.which("setpriv")
_SOCKET_NAME = "containerd.sock"
# How often open() looks for the forwarded socket: a handshake takes 0.1-0.5 s and a look is one
# stat(), so a short period costs nothing measurable and cuts the wait after the socket appears
# from 10 ms on average (at 0.02 s) to 2.5 ms.
_POLL = 0.005
#: How long the first gRPC connection through a tunnel may take (ContainerdStore's
#: ``connect_timeout``): ssh opens a channel to the node, sshd connects to the socket and
#: containerd's HTTP/2 settings come back, about 1.5 round trips plus the node's scheduling.
#: gRPC's own 0.1 s (our reconnect backoff) failed nodes 100 ms away, or on a busy machine.
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class SshOptions:
    """How ``ssh`` is run for every node.

    ``config``: an ssh_config file used instead of ``~/.ssh/config`` (``ssh -F``).
    ``connect_timeout``: ssh's ``ConnectTimeout`` (TCP connect and the banner exchange).
    ``open_timeout``: our own bound on the whole opening (connect, key exchange, authentication,
    jump hosts), after which the node fails with a timeout.
    """

    config: str | None = None
    connect_timeout: float = 10.0
    open_timeout: float = 30.0
    ssh: str = SSH

    def base_arguments(self) -> list[str]:
        args = [self.ssh]
        if self.config:
            args += ["-F", self.config]
        return args


class SshFailure(errors.Unavailable):
    """A node could not be reached through SSH.  ``reason`` is the kind (see :data:`REASONS`)."""

    def __init__(self, message: str, *, reason: str, fingerprint: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.fingerprint = fingerprint


#: The kinds of :attr:`SshFailure.reason`, for a GUI to pick an icon or a hint.
REASONS = ("unreachable", "timeout", "auth", "host-key-unknown", "host-key-changed", "remote-socket",
           "ssh-ended", "ssh")


_live: "weakref.WeakSet[Tunnel]" = weakref.WeakSet()
_live_lock = threading.Lock()


def _close_all() -> None:
    with _live_lock:
        tunnels = list(_live)
    for t in tunnels:
        t.close()


atexit.register(_close_all)


class Tunnel:
    """``ssh -N -L`` for one node; :meth:`open` waits until the local socket accepts connections.

    Thread-safe: :meth:`close` may be called from another thread (a runner's watchdog) to break
    a call that hangs on the node; the worker then sees its connection end.
    """

    def __init__(self, address: SshAddress, options: SshOptions | None = None):
        self.address = address
        self.options = options or SshOptions()
        self._dir: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._closed = False

    # -- paths -------------------------------------------------------------------------

    @property
    def local_socket(self) -> str:
        if self._dir is None:
            raise errors.FailedPrecondition(f"the tunnel to {self.address} is not open")
        return str(self._dir / _SOCKET_NAME)

    @property
    def local_address(self) -> str:
        """``unix://<local socket>``: what :class:`store.containerd.ContainerdStore` takes."""
        return "unix://" + self.local_socket

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def argv(self, local_socket: str) -> list[str]:
        """The ssh command line (no secret in it: keys and agent are ssh's own business)."""
        o = self.options
        return [*o.base_arguments(), "-N",
                "-o", "BatchMode=yes",
                # INFO, whatever the config says: sshd's refusal to open the remote socket ("open
                # failed") is an INFO line, and it is how a missing socket is told from a dead node
                "-o", "LogLevel=INFO",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "ExitOnForwardFailure=yes",
                "-o", "StreamLocalBindUnlink=yes",
                "-o", f"ConnectTimeout={max(1, int(round(o.connect_timeout)))}",
                "-o", "ServerAliveInterval=15",
                "-o", "ServerAliveCountMax=3",
                "-o", "ControlMaster=no", "-o", "ControlPath=none",
                "-L", f"{local_socket}:{self.address.socket}",
                *self.address.ssh_arguments()]

    # -- open / close ------------------------------------------------------------------

    def open(self, cancel: Callable[[], bool] | None = None) -> "Tunnel":
        """Start ssh and wait (at most ``open_timeout``) until the forwarded socket accepts.

        Raises :class:`SshFailure` with a one-line reason, or :class:`errors.Cancelled` when
        ``cancel()`` became true; the tunnel is closed in both cases.
        """
        with self._lock:
            if self._closed:
                raise errors.Cancelled(f"the tunnel to {self.address} was closed")
            if self._proc is not None:
                return self
            self._dir = Path(_private_dir())
            local = str(self._dir / _SOCKET_NAME)
            argv = self.argv(local)
            if SETPRIV:
                argv = [SETPRIV, "--pdeathsig", "TERM", "--", *argv]
            err = open(self._dir / "ssh.err", "wb")
            try:
                self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=err, start_new_session=True, close_fds=True)
            except OSError as exc:
                self._remove_dir()
                raise SshFailure(f"{self.address}: cannot run {self.options.ssh}: {exc.strerror or exc}",
                                 reason="ssh") from None
            finally:
                err.close()
            with _live_lock:
                _live.add(self)
        log.debug("ssh pid %d forwarding %s", self._proc.pid, self.address)
        try:
            self._wait_ready(local, cancel)
        except BaseException:
            self.close()
            raise
        return self

    def _wait_ready(self, local: str, cancel: Callable[[], bool] | None) -> None:
        deadline = time.monotonic() + self.options.open_timeout
        proc = self._proc
        while True:
            if cancel is not None and cancel():
                raise errors.Cancelled(f"connecting to {self.address} was cancelled")
            if proc is None or self._closed:
                raise errors.Cancelled(f"the tunnel to {self.address} was closed while it opened")
            if proc.poll() is not None:
                raise self.failure()
            if os.path.exists(local) and _accepts(local):
                return
            if time.monotonic() > deadline:
                raise SshFailure(f"{self.address}: timeout: no SSH session within {self.options.open_timeout:g} s "
                                 f"(the host or a jump host does not answer){self._last_line_suffix()}",
                                 reason="timeout")
            time.sleep(_POLL)

    def close(self) -> None:
        """Kill ssh's process group and remove the private directory (idempotent, any thread)."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
        if proc is not None:
            _kill_group(proc)
        with _live_lock:
            _live.discard(self)
        self._remove_dir()

    def _remove_dir(self) -> None:
        d = self._dir
        if d is not None:
            shutil.rmtree(d, ignore_errors=True)

    def __enter__(self) -> "Tunnel":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a dropped tunnel never leaves ssh running
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- what went wrong -----------------------------------------------------------------

    def stderr_lines(self) -> list[str]:
        """ssh's stderr so far, as lines (read only to explain a failure)."""
        if self._dir is None:
            return []
        try:
            with open(self._dir / "ssh.err", "rb") as f:
                data = f.read(256 << 10)
        except OSError:
            return []
        return [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]

    def _last_line_suffix(self) -> str:
        line = relevant_line(self.stderr_lines())
        return f" ({line})" if line else ""

    def settle(self, timeout: float = 0.5) -> bool:
        """Wait up to ``timeout`` for ssh to exit (a call failed: is it ssh going away?); True if it exited."""
        proc = self._proc
        if proc is None:
            return True
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def remote_socket_refused(self) -> bool:
        """True when sshd said it could not open the remote socket for a forwarded connection."""
        return any("open failed" in line for line in self.stderr_lines())

    def failure(self) -> SshFailure:
        """The :class:`SshFailure` that explains why ssh exited (or why the tunnel stopped working)."""
        lines = self.stderr_lines()
        return classify(self.address, lines, self.options,
                        exited=self._proc is None or self._proc.poll() is not None)


def _private_dir() -> str:
    """A 0700 directory whose socket path fits ``sun_path`` (tempfile makes it 0700)."""
    base = tempfile.gettempdir()
    if len(os.path.join(base, "blobscope-ssh-XXXXXXXX", _SOCKET_NAME)) > 100:
        base = "/tmp"
    return tempfile.mkdtemp(prefix="blobscope-ssh-", dir=base)


def _accepts(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)  # ssh leads its own session: its pgid is its pid (ProxyJump children too)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        proc.wait(1.0)
    except subprocess.TimeoutExpired:
        log.warning("ssh pid %d did not exit", proc.pid)


# ---------------------------------------------------------------------------------------------
# ssh's stderr -> one reason

_NOISE = re.compile(r"^(@+|IT IS POSSIBLE|Someone could be|It is also possible|Please contact|"
                    r"Add correct host key|Offending|\s*remove with|\s*ssh-keygen -f|Warning: Permanently|"
                    r"debug\d?:|Pseudo-terminal)", re.I)
_UNKNOWN_KEY = re.compile(r"No (\S+) host key is known for (\S+)")
_CHANGED_FP = re.compile(r"(SHA256:[A-Za-z0-9+/=]+)")
_CHANGED_TYPE = re.compile(r"The fingerprint for the (\S+) key sent by the remote host is")


def relevant_line(lines: list[str]) -> str:
    """The last line of ssh's stderr that says something (banners and advice left out), cut at 300."""
    for line in reversed(lines):
        if not _NOISE.match(line) and line not in ("Host key verification failed.",):
            return _printable(line)[:300]
    return ""


def classify(address: SshAddress, lines: list[str], options: SshOptions, *, exited: bool = True) -> SshFailure:
    """Map ssh's stderr to one :class:`SshFailure` with a reason a person can act on."""
    text = "\n".join(lines)
    where = str(address)
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in text or "has changed and you have requested strict" in text:
        fp = _CHANGED_FP.search(text)
        kind = _CHANGED_TYPE.search(text)
        shown = f"{kind.group(1) if kind else ''} {fp.group(1)}".strip() if fp else "unknown fingerprint"
        return SshFailure(f"{where}: host key CHANGED: the node now presents {shown}, which differs from "
                          "known_hosts; refused (a reinstalled node, or someone in between: check with its owner)",
                          reason="host-key-changed", fingerprint=fp.group(1) if fp else None)
    m = _UNKNOWN_KEY.search(text)
    if m or "Host key verification failed" in text:
        key_type = m.group(1) if m else None
        fingerprint = host_key_fingerprint(address, options, key_type)
        shown = fingerprint or "fingerprint not available (ssh-keyscan could not reach the node directly)"
        return SshFailure(f"{where}: host key unknown: the node presents {shown}; refused, not added to "
                          "known_hosts (check it with the node's owner, then add it with ssh-keyscan or one "
                          "interactive ssh)", reason="host-key-unknown",
                          fingerprint=fingerprint.split()[-1] if fingerprint else None)
    if "Permission denied" in text or "Too many authentication failures" in text \
            or "not allowed because" in text:
        return SshFailure(f"{where}: authentication refused ({relevant_line(lines)}); check the user, the key "
                          "(IdentityFile, agent) and the node's authorized_keys", reason="auth")
    if re.search(r"timed out|Connection timed out|Operation timed out", text, re.I):
        return SshFailure(f"{where}: timeout: {relevant_line(lines)}", reason="timeout")
    if re.search(r"Connection refused|No route to host|Network is unreachable|Could not resolve hostname|"
                 r"Name or service not known|Connection reset|Connection closed by|kex_exchange_identification|"
                 r"banner exchange", text, re.I):
        return SshFailure(f"{where}: unreachable: {relevant_line(lines)}", reason="unreachable")
    if re.search(r"forwarding|bind|cannot listen|Could not request local forwarding", text, re.I):
        return SshFailure(f"{where}: ssh could not set up the forwarding: {relevant_line(lines)}", reason="ssh")
    line = relevant_line(lines)
    if not exited:
        return SshFailure(f"{where}: the SSH connection stopped working{': ' + line if line else ''}",
                          reason="ssh-ended")
    return SshFailure(f"{where}: ssh failed{': ' + line if line else ' without a message'}", reason="ssh")


def host_key_fingerprint(address: SshAddress, options: SshOptions, key_type: str | None = None,
                         timeout: float = 10.0) -> str | None:
    """``TYPE SHA256:...`` of the key the node presents, from ``ssh-keyscan | ssh-keygen -lf -``.

    The real host name and port come from ``ssh -G`` (an alias of the ssh_config is resolved as
    ssh does).  None when the node is behind a ProxyJump/ProxyCommand (keyscan cannot go through
    one) or does not answer.
    """
    try:
        g = subprocess.run([*options.base_arguments(), "-G", *address.ssh_arguments()],
                           capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    settings: dict[str, str] = {}
    for raw in g.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = raw.partition(" ")
        settings.setdefault(key.lower(), value.strip())
    if settings.get("proxyjump", "none") != "none" or settings.get("proxycommand", "none") != "none":
        return None
    host, port = settings.get("hostname") or address.host, settings.get("port") or "22"
    if host.startswith("-") or not port.isdigit():
        return None
    argv = [SSH_KEYSCAN, "-T", str(max(1, int(timeout))), "-p", port]
    if key_type:
        argv += ["-t", {"ED25519": "ed25519", "ECDSA": "ecdsa", "RSA": "rsa"}.get(key_type.upper(), "ed25519")]
    try:
        scan = subprocess.run([*argv, "--", host], capture_output=True, timeout=timeout + 5,
                              stdin=subprocess.DEVNULL)
        if not scan.stdout.strip():
            return None
        keygen = subprocess.run([SSH_KEYGEN, "-lf", "-"], input=scan.stdout, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in keygen.stdout.decode("utf-8", "replace").splitlines():
        # "256 SHA256:abc... [127.0.0.1]:2222 (ED25519)"
        parts = line.split()
        fp = next((p for p in parts if p.startswith("SHA256:")), None)
        if fp:
            kind = parts[-1].strip("()") if parts[-1].startswith("(") else ""
            return f"{kind} {fp}".strip()
    return None


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


__all__ = ["CONNECT_TIMEOUT", "Tunnel", "SshOptions", "SshFailure", "REASONS", "classify", "relevant_line", "host_key_fingerprint"]
