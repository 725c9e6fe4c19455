"""Plain row records the scanner builds off the GUI thread and the models hold.

They carry only what the tables need (no Qt), with sort keys computed once when
the row is made, so sorting 100k rows is one ``list.sort(key=...)``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping, Sequence

from store.timestamps import as_ns

from . import fmt

GC_ROOT = "containerd.io/gc.root"
GC_REF_CONTENT = "containerd.io/gc.ref.content"


_HEX64 = re.compile(r"[0-9a-f]{64}")


def digest_key(digest: str) -> tuple[bytes, bool]:
    """(32-byte key, is a plain sha256 digest whose key is its raw value)."""
    if len(digest) == 71 and digest.startswith("sha256:") and _HEX64.fullmatch(digest, 7):
        return bytes.fromhex(digest[7:]), True
    return hashlib.sha256(b"other:" + digest.encode()).digest(), False


_NS_MIN, _NS_MAX = -(1 << 63), (1 << 63) - 1


def labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


class BlobRow:
    """One committed blob as the blobs table shows it.

    The scanner and the operations make free-standing rows; the blobs model keeps no row objects
    (gui/blobs/columns.py holds its columns) and hands out rows *bound* to its columns: their
    ``media_type`` and ``verified`` read and write the model's column, so what a caller learns
    about a blob lands in the table.
    """

    __slots__ = ("digest", "size", "created_ns", "updated_ns", "labels", "labels_text",
                 "_media_type", "_verified", "_haystack", "_bound", "_rid", "key", "__weakref__")

    def __init__(self, digest: str, size: int, created_ns: int, updated_ns: int,
                 labels: dict[str, str], media_type: str = ""):
        self.digest = str(digest)
        self.size = size
        # The columns keep times in 64-bit arrays; a time outside them (Go's zero time, which a
        # meta.db record without createdat decodes to) is shown as unknown, like 0 (fmt.local_time).
        self.created_ns = created_ns if _NS_MIN <= created_ns <= _NS_MAX else 0
        self.updated_ns = updated_ns if _NS_MIN <= updated_ns <= _NS_MAX else 0
        self.labels = labels
        self.labels_text = labels_text(labels) if labels else ""
        self._media_type = media_type
        self._verified: bool | None = None  # None: not checked, True: matches, False: mismatch
        self._haystack: str | None = None
        self._bound = None  # the columns this row is a view of (set by gui/blobs/columns.py)
        self._rid = -1
        # (32-byte digest key, plain sha256?) for the blobs model's index, worked out where the
        # row is made: on the scanner thread, not on the GUI thread that appends it
        self.key: tuple[bytes, bool] | None = None

    @classmethod
    def from_info(cls, info) -> "BlobRow":
        row = cls(info.digest, info.size, info.created_ns, info.updated_ns, dict(info.labels))
        row.key = digest_key(row.digest)
        return row

    def bind(self, columns, rid: int) -> None:
        """Make this row a view of row ``rid`` of ``columns`` (media type and verification live there)."""
        self._bound = columns
        self._rid = rid

    @property
    def media_type(self) -> str:
        b = self._bound
        return self._media_type if b is None else b.media_of(self._rid)

    @media_type.setter
    def media_type(self, value: str) -> None:
        b = self._bound
        if b is None:
            self._media_type = value
        else:
            b.set_media(self._rid, value)

    @property
    def verified(self) -> bool | None:
        b = self._bound
        return self._verified if b is None else b.verified_of(self._rid)

    @verified.setter
    def verified(self, value: bool | None) -> None:
        b = self._bound
        if b is None:
            self._verified = value
        else:
            b.set_verified(self._rid, value)

    @property
    def short(self) -> str:
        return fmt.short_digest(self.digest)

    @property
    def haystack(self) -> str:
        """Lower-case text a plain-text filter searches (digest and labels)."""
        if self._haystack is None:
            self._haystack = (self.digest + "\n" + self.labels_text).lower()
        return self._haystack

    def same_content(self, other: "BlobRow") -> bool:
        return (self.size == other.size and self.updated_ns == other.updated_ns
                and self.created_ns == other.created_ns and self.labels == other.labels)

    def adaptor(self, fieldpath: Sequence[str]) -> tuple[str, bool]:
        """containerd's content adaptor (fields ``digest`` and ``labels.<key>``)."""
        if not fieldpath:
            return "", False
        if fieldpath[0] == "digest":
            return self.digest, True
        if fieldpath[0] == "labels" and len(fieldpath) > 1:
            key = ".".join(fieldpath[1:])
            if key in self.labels:
                return self.labels[key], True
        return "", False

    def __repr__(self) -> str:
        return f"BlobRow({self.digest!r}, {self.size})"


def diff_rows(base: Mapping[str, "BlobRow"], rows: list["BlobRow"]
              ) -> tuple[list[str], list["BlobRow"], list["BlobRow"]]:
    """(digests gone, rows new, rows whose content changed) of a scan against ``base`` (digest -> row;
    the blobs model's ``rows_by_digest()`` snapshot compares in place without making rows).

    ``rows`` is emptied: the rows that did not change are freed a chunk at a time, because
    freeing a million of them at once is one C call that holds the GIL (and the GUI) for a second.
    """
    try:
        return _diff(base, rows)
    finally:
        while rows:
            del rows[-4096:]
            time.sleep(0)


def _diff(base: Mapping[str, "BlobRow"], rows: list["BlobRow"]
          ) -> tuple[list[str], list["BlobRow"], list["BlobRow"]]:
    new = {r.digest: r for r in rows}
    same = getattr(base, "same_content", None)  # a columns snapshot: (digest, row) -> True/False/None
    if same is not None:
        removed = [d for d in base if d not in new]
        added: list[BlobRow] = []
        changed: list[BlobRow] = []
        for i, (d, r) in enumerate(new.items()):
            verdict = same(d, r)
            if verdict is None:
                added.append(r)
            elif not verdict:
                changed.append(r)
            if not i & 1023:
                time.sleep(0)
        return removed, added, changed
    removed = [d for d in base if d not in new]
    added = []
    changed = []
    for i, (d, r) in enumerate(new.items()):
        old = base.get(d)
        if old is None:
            added.append(r)
        elif not old.same_content(r):
            changed.append(r)
        if not i & 1023:
            time.sleep(0)  # on the scanner thread: let the GUI thread have the GIL
    return removed, added, changed


class IngestRow:
    """One active (or interrupted) ingest as the ingests table shows it."""

    __slots__ = ("ref", "offset", "total", "expected", "started_ns", "updated_ns", "broken")

    def __init__(self, ref: str, offset: int, total: int, expected: str | None,
                 started_ns: int, updated_ns: int, broken: str | None = None):
        self.ref = ref
        self.offset = offset
        self.total = total
        self.expected = expected
        self.started_ns = started_ns
        self.updated_ns = updated_ns
        self.broken = broken  # reason text for a damaged ingest directory, else None

    @classmethod
    def from_status(cls, st) -> "IngestRow":
        return cls(st.ref, st.offset, st.total, str(st.expected) if st.expected else None,
                   as_ns(st.started_at), as_ns(st.updated_at))

    @classmethod
    def from_broken(cls, b) -> "IngestRow":
        name = getattr(b, "ref_hash", "") or str(getattr(b, "path", "?"))
        return cls(name, 0, 0, None, 0, 0, broken=str(getattr(b, "reason", "damaged")))

    def key(self) -> tuple:
        return (self.ref, self.offset, self.total, self.started_ns, self.updated_ns, self.broken)

    def __repr__(self) -> str:
        return f"IngestRow({self.ref!r}, {self.offset}/{self.total})"
