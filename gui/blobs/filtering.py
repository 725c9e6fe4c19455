"""The filter box: plain text (substring of digest or labels) or containerd filter syntax.

:func:`compile_filter` turns the text into a :class:`Query`.  A query is a row predicate
(``query(row)``, the reference meaning, used for the few rows a batch adds) and answers for a
whole :class:`~gui.blobs.columns.ColumnsSnapshot` at once (:meth:`Query.mask`, on a worker): a
labels selector is evaluated once per distinct label set, not once per blob, and digests are
searched in their hex text a chunk at a time.

Python's ``re`` backtracks and holds the GIL while it matches, so a pattern such as ``(a+)+$``
against a long label would freeze the whole application, worker or not.  Such patterns are
refused up front with a sentence (:func:`store.re2.backtracking_risk`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QCoreApplication

from ..rows import BlobRow
from .columns import SHA256, STRIDE

if TYPE_CHECKING:
    from .columns import ColumnsSnapshot

# Text that starts like a containerd fieldpath, or uses one of its operators, is a filter.
_SYNTAX = re.compile(r"^\s*(digest|labels)\b|==|!=|~=")
CHUNK = 65536  # rows per bulk step: each C-level step holds the GIL for a millisecond or two

Check = Callable[[], None]  # raises to abandon the work (a newer keystroke)


class FilterError(ValueError):
    pass


def looks_like_syntax(text: str) -> bool:
    return bool(_SYNTAX.search(text))


def _never() -> None:
    return None


class Query:
    """A compiled filter: ``query(row)`` for one row, :meth:`mask` for a snapshot."""

    text = ""

    def __call__(self, row: BlobRow) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def mask(self, snap: ColumnsSnapshot, check: Check = _never) -> bytes:
        """One byte per row number of ``snap`` (dead rows included): 1 where the row matches."""
        raise NotImplementedError  # pragma: no cover - abstract


class _Predicate(Query):
    """Any callable on a row (a caller's own predicate): correct, one Python call per row."""

    def __init__(self, fn: Callable[[BlobRow], bool]):
        self.fn = fn

    def __call__(self, row: BlobRow) -> bool:
        return bool(self.fn(row))

    def mask(self, snap: ColumnsSnapshot, check: Check = _never) -> bytes:
        out = bytearray(snap.n)
        for start in range(0, snap.n, 4096):
            check()
            for rid in range(start, min(snap.n, start + 4096)):
                if snap.alive[rid] and self.fn(snap.row(rid)):
                    out[rid] = 1
        return bytes(out)


def as_query(predicate: Callable[[BlobRow], bool] | Query | None) -> Query | None:
    if predicate is None or isinstance(predicate, Query):
        return predicate
    return _Predicate(predicate)


# ---------------------------------------------------------------------------- bulk helpers

def _or(a: bytes, b: bytes) -> bytes:
    n = len(a)
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(n, "little")


def _and(a: bytes, b: bytes) -> bytes:
    n = len(a)
    return (int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(n, "little")


def _not(a: bytes) -> bytes:
    return a.translate(_FLIP)


_FLIP = bytes([1, 0]) + bytes(254)


def _expand(per_set: bytes, snap: ColumnsSnapshot, check: Check) -> bytes:
    """A per-label-set answer spread over the rows (one C-level map per chunk)."""
    if not any(per_set):
        return bytes(snap.n)
    lids = snap.lids
    parts = []
    for start in range(0, snap.n, CHUNK):
        check()
        parts.append(bytes(map(per_set.__getitem__, lids[start:start + CHUNK])))
    return b"".join(parts)


def _hex_hits(snap: ColumnsSnapshot, needle: str, check: Check, *, at_start: bool = False) -> bytearray:
    """Rows whose 64-character hex digest contains ``needle`` (or starts with it)."""
    out = bytearray(snap.n)
    if not needle or len(needle) > 64:
        return out
    width = 2 * STRIDE
    size = len(needle)
    keys = snap.digests
    for start in range(0, snap.n, CHUNK):
        check()
        text = keys[start * STRIDE:(start + CHUNK) * STRIDE].hex()
        find = text.find
        p = find(needle)
        while p >= 0:
            row, col = divmod(p, width)
            if col + size <= width and (not at_start or col == 0):
                out[start + row] = 1
                p = find(needle, (row + 1) * width)
            else:
                p = find(needle, p + 1)
    for rid in snap.others:  # other algorithms: their own text
        out[rid] = 0
    return out


def _plain_digest_hits(snap: ColumnsSnapshot, needle: str, check: Check) -> bytes:
    """Rows whose digest text ("sha256:<hex>") contains ``needle``."""
    out = bytes(snap.n)
    if needle in SHA256:
        out = bytes([1]) * snap.n
    else:
        if all(c in "0123456789abcdef" for c in needle):
            out = bytes(_hex_hits(snap, needle, check))
        for cut in range(1, len(SHA256) + 1):  # the needle starts inside "sha256:" and runs into the hex
            head, rest = needle[:cut], needle[cut:]
            if rest and SHA256.endswith(head):
                out = _or(out, bytes(_hex_hits(snap, rest, check, at_start=True)))
    if snap.others:
        fixed = bytearray(out)
        for rid, digest in snap.others.items():
            fixed[rid] = 1 if needle in digest.lower() else 0
        out = bytes(fixed)
    return out


# ---------------------------------------------------------------------------- plain text

class PlainQuery(Query):
    """Case-insensitive substring of the digest or of the labels' text."""

    def __init__(self, text: str):
        self.text = text
        self.needle = text.lower()

    def __call__(self, row: BlobRow) -> bool:
        return self.needle in row.haystack

    def mask(self, snap: ColumnsSnapshot, check: Check = _never) -> bytes:
        needle = self.needle
        per_set = bytes(1 if needle in t.lower() else 0 for t in snap.tables.label_texts)
        return _or(_plain_digest_hits(snap, needle, check), _expand(per_set, snap, check))


# ---------------------------------------------------------------------------- containerd syntax

class SyntaxQuery(Query):
    """containerd's filter syntax (store.filters), the same meaning as ``ctr content ls``."""

    def __init__(self, text: str, flt):
        self.text = text
        self.flt = flt

    def __call__(self, row: BlobRow) -> bool:
        return self.flt.match(row.adaptor)

    def mask(self, snap: ColumnsSnapshot, check: Check = _never) -> bytes:
        return self._mask(self.flt, snap, check)

    def _mask(self, flt, snap: ColumnsSnapshot, check: Check) -> bytes:
        children = getattr(flt, "filters", None)
        if children is not None:  # AnyOf
            out = bytes(snap.n)
            for child in children:
                out = _or(out, self._mask(child, snap, check))
            return out
        selectors = getattr(flt, "selectors", None)
        if selectors is not None:  # AllOf
            out = bytes([1]) * snap.n
            for sel in selectors:
                out = _and(out, self._mask(sel, snap, check))
            return out
        if getattr(flt, "matches_everything", False):
            return bytes([1]) * snap.n
        return self._selector(flt, snap, check)

    def _selector(self, sel, snap: ColumnsSnapshot, check: Check) -> bytes:
        path = sel.fieldpath
        if path and path[0] == "digest":
            return self._digest_selector(sel, snap, check)
        if path and path[0] == "labels" and len(path) > 1:
            key = ".".join(path[1:])
            per_set = bytearray()
            value_of = snap.tables.label_sets.value
            for lid in range(len(snap.tables.label_texts)):
                value = value_of(lid, key)
                per_set.append(1 if sel.match(lambda _fp, v=value: ("", False) if v is None else (v, True)) else 0)
            return _expand(bytes(per_set), snap, check)
        return (bytes([1]) if sel.match(lambda _fp: ("", False)) else bytes(1)) * snap.n

    def _digest_selector(self, sel, snap: ColumnsSnapshot, check: Check) -> bytes:
        op = sel.op
        if op == "?":
            return bytes([1]) * snap.n
        if op in ("==", "!="):
            out = bytearray(snap.n)
            rid = snap.find(sel.value)
            if rid >= 0:
                out[rid] = 1
            return bytes(out) if op == "==" else _not(bytes(out))
        regex = sel.regex
        out = bytearray(snap.n)
        if regex is None:
            return bytes(out)
        search = regex.search
        keys = snap.digests
        width = 2 * STRIDE
        for start in range(0, snap.n, CHUNK // 4):
            check()
            text = keys[start * STRIDE:(start + CHUNK // 4) * STRIDE].hex()
            for j in range(0, len(text) // width):
                if search(SHA256 + text[j * width:(j + 1) * width]):
                    out[start + j] = 1
        for rid, digest in snap.others.items():
            out[rid] = 1 if search(digest) else 0
        return bytes(out)


# ---------------------------------------------------------------------------- compiling

def compile_filter(text: str) -> Query | None:
    """The query for ``text``, None for "show everything"; FilterError with a sentence."""
    text = text.strip()
    if not text:
        return None
    if looks_like_syntax(text):
        from store import errors, filters, re2
        try:
            flt = filters.parse(text)
        except errors.ContentError as e:
            raise FilterError(QCoreApplication.translate(
                "Filter", "This filter cannot be used: {reason}").format(reason=e)) from e
        sels = _selectors(flt)
        bad = [str(sel) for sel in sels if not getattr(sel, "regex_valid", True)]
        if bad:  # containerd would silently match nothing; say why instead
            raise FilterError(QCoreApplication.translate(
                "Filter", "This filter cannot be used: {selector} is not a valid regular expression.")
                .format(selector=bad[0]))
        for sel in sels:
            risk = re2.backtracking_risk(sel.value) if getattr(sel, "op", "") == "~=" else None
            if risk:
                raise FilterError(QCoreApplication.translate(
                    "Filter", "This filter cannot be used: {selector} could take exponential time to "
                    "match ({reason}); write it without the nested repetition.")
                    .format(selector=str(sel), reason=risk))
        return SyntaxQuery(text, flt)
    return PlainQuery(text)


def _selectors(flt) -> list:
    out = []
    for child in getattr(flt, "filters", ()) or ():
        out.extend(_selectors(child))
    out.extend(getattr(flt, "selectors", ()) or ())
    if hasattr(flt, "fieldpath"):
        out.append(flt)
    return out
