"""The ssh_config file the window's SSH sources use (``ssh -F``), kept in QSettings as a path only.

No password, passphrase or key is ever asked for, kept or shown: ssh reads keys and talks to the
agent itself (docs/fleet.md §2).
"""

from __future__ import annotations

from pathlib import Path

SSH_CONFIG_KEY = "fleet/sshConfig"


def ssh_config(settings) -> str | None:
    """The saved ssh_config path, or None for ssh's own ``~/.ssh/config``."""
    value = settings.value(SSH_CONFIG_KEY, "")
    return str(value) if value else None


def set_ssh_config(settings, path: str | None) -> None:
    if path:
        settings.setValue(SSH_CONFIG_KEY, str(Path(path).expanduser()))
    else:
        settings.remove(SSH_CONFIG_KEY)


def ssh_options(settings):
    """``SshOptions`` with the saved ssh_config (GUI thread: reads QSettings)."""
    from store.fleet import SshOptions
    return SshOptions(config=ssh_config(settings))


def is_fleet_file(target: str) -> bool:
    """A regular file that is not a socket: a fleet file (a store is a directory, a daemon a socket)."""
    if "://" in target or target.endswith(".sock"):
        return False
    try:
        return Path(target).expanduser().is_file()
    except OSError:
        return False


__all__ = ["SSH_CONFIG_KEY", "ssh_config", "set_ssh_config", "ssh_options", "is_fleet_file"]
