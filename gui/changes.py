"""What changed on disk, by name: the watcher's coalesced report, plain data for the scanner thread."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DiskChanges:
    """Entries of a local store named by inotify since the last report (design.md §5.2).

    Nothing here was stat-ed: the scanner thread reads each named entry and tells what it is now.
    """

    blobs: set[str] = field(default_factory=set)      # "alg:hex" to read again (info, or gone)
    alg_dirs: set[str] = field(default_factory=set)   # new blobs/<alg> directories, listed whole
    ingests: set[str] = field(default_factory=set)    # names in ingest/ to read again
    all_ingests: bool = False                         # ingest/ itself appeared: read every entry
    labels: bool = False                              # labels.db was written
    rescan: str | None = None                         # why only a full rescan can tell (overflow, a lost watch)

    def __bool__(self) -> bool:
        return bool(self.blobs or self.alg_dirs or self.ingests or self.all_ingests or self.labels or self.rescan)

    def merge(self, other: DiskChanges) -> None:
        self.blobs |= other.blobs
        self.alg_dirs |= other.alg_dirs
        self.ingests |= other.ingests
        self.all_ingests = self.all_ingests or other.all_ingests
        self.labels = self.labels or other.labels
        self.rescan = self.rescan or other.rescan

    def only_ingests(self) -> bool:
        return not (self.blobs or self.alg_dirs or self.labels or self.rescan)

    def __len__(self) -> int:
        return len(self.blobs) + len(self.alg_dirs) + len(self.ingests) + int(self.labels)
