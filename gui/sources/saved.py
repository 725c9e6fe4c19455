"""The saved list of sources (local stores, containerd roots, daemon addresses), kept in QSettings.

Plain data and persistence only; the widgets that show it live in ``gui/sources/controller.py``,
``gui/sources/sources_dialog.py`` and ``gui/sources/compare_dialog.py``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace

log = logging.getLogger(__name__)

SETTINGS_KEY = "sources/list"
MAX_SOURCES = 64


def is_address(target: str) -> bool:
    """A daemon address (``unix://``, ``tcp://``, ``ssh://`` a node) rather than a directory; sockets
    are found when opened."""
    return target.startswith(("unix://", "unix:", "tcp://", "ssh://"))


@dataclass(frozen=True)
class Source:
    """One place Blobscope can browse: ``target`` is a directory, a socket path or an address."""

    target: str
    name: str = ""
    namespace: str = "default"
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    extra: dict = field(default_factory=dict, compare=False)  # keys a newer version wrote: kept

    @property
    def label(self) -> str:
        base = self.name or self.target
        if self.is_daemon and self.namespace and self.namespace != "default":
            return f"{base} [{self.namespace}]"
        return base

    @property
    def is_daemon(self) -> bool:
        return is_address(self.target) or self.target.endswith(".sock")

    @property
    def is_ssh(self) -> bool:
        """One node's containerd through an SSH tunnel (docs/fleet.md)."""
        return self.target.startswith("ssh://")

    @property
    def is_fleet(self) -> bool:
        """A fleet file (opens the Fleet tab): a regular file, not a store directory or a socket."""
        from ..fleet.settings import is_fleet_file
        return is_fleet_file(self.target)

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_ca or self.tls_cert or self.tls_key)

    @property
    def is_plain_directory(self) -> bool:
        """A directory opened as it is: no daemon, no TLS files, the default namespace."""
        return not (self.is_daemon or self.uses_tls or self.namespace != "default" or self.is_fleet)

    @property
    def name_with_namespace(self) -> str:
        """The name (or target), with the namespace whenever it is not ``default``."""
        base = self.name or self.target
        return base if self.namespace == "default" else f"{base} [{self.namespace}]"

    def tls(self):
        """A ``store.containerd.TLSConfig`` for a ``tcp://`` source, or None."""
        if not self.uses_tls:
            return None
        from store.containerd import TLSConfig
        return TLSConfig(ca=self.tls_ca or None, cert=self.tls_cert or None, key=self.tls_key or None)

    def to_json(self) -> dict:
        d = asdict(self)
        extra = d.pop("extra")
        return {**extra, **d}

    @classmethod
    def from_json(cls, d: dict) -> "Source":
        known = {"target", "name", "namespace", "tls_ca", "tls_cert", "tls_key"}
        values = {k: str(d[k]) for k in known if k in d and d[k] is not None}
        if not values.get("target"):
            raise ValueError("a source needs a target")
        return cls(**values, extra={k: v for k, v in d.items() if k not in known})

    def same_place(self, other: "Source") -> bool:
        return self.target == other.target


class SourceList:
    """The sources in ``settings`` (a JSON list under one key, so every QSettings backend keeps it)."""

    def __init__(self, settings):
        self.settings = settings

    def load(self) -> list[Source]:
        raw = self.settings.value(SETTINGS_KEY, "")
        if not raw:
            return []
        try:
            items = json.loads(str(raw))
        except ValueError:
            log.warning("the saved source list is not valid JSON; starting with an empty list")
            return []
        sources = []
        for item in items if isinstance(items, list) else []:
            try:
                sources.append(Source.from_json(item))
            except (TypeError, ValueError) as e:
                log.warning("skipping a saved source: %s", e)
        return sources

    def save(self, sources: list[Source]) -> None:
        # no sync(): like the recent stores, Qt writes the file from its event loop and on exit
        self.settings.setValue(SETTINGS_KEY, json.dumps([s.to_json() for s in sources[:MAX_SOURCES]]))

    def add(self, source: Source) -> list[Source]:
        """Add ``source``, or update the saved one for the same target; returns the new list."""
        sources = self.load()
        for i, s in enumerate(sources):
            if s.same_place(source):
                sources[i] = source
                break
        else:
            sources.append(source)
        self.save(sources)
        return sources

    def remove(self, target: str) -> list[Source]:
        sources = [s for s in self.load() if s.target != target]
        self.save(sources)
        return sources

    def find(self, target: str) -> Source | None:
        return next((s for s in self.load() if s.target == target), None)

    def set_namespace(self, target: str, namespace: str) -> None:
        """Remember the namespace last used on a daemon source."""
        sources = self.load()
        changed = False
        for i, s in enumerate(sources):
            if s.target == target and s.namespace != namespace:
                sources[i] = replace(s, namespace=namespace)
                changed = True
        if changed:
            self.save(sources)
