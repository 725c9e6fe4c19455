"""The filter box: plain text (substring of digest or labels) or containerd filter syntax."""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import QCoreApplication

from ..rows import BlobRow

# Text that starts like a containerd fieldpath, or uses one of its operators, is a filter.
_SYNTAX = re.compile(r"^\s*(digest|labels)\b|==|!=|~=")


class FilterError(ValueError):
    pass


def looks_like_syntax(text: str) -> bool:
    return bool(_SYNTAX.search(text))


def compile_filter(text: str) -> Callable[[BlobRow], bool] | None:
    """A row predicate for ``text``, None for "show everything"; FilterError with a sentence."""
    text = text.strip()
    if not text:
        return None
    if looks_like_syntax(text):
        from store import errors, filters
        try:
            flt = filters.parse(text)
        except errors.ContentError as e:
            raise FilterError(QCoreApplication.translate(
                "Filter", "This filter cannot be used: {reason}").format(reason=e)) from e
        bad = [str(sel) for sel in _selectors(flt) if not getattr(sel, "regex_valid", True)]
        if bad:  # containerd would silently match nothing; say why instead
            raise FilterError(QCoreApplication.translate(
                "Filter", "This filter cannot be used: {selector} is not a valid regular expression.")
                .format(selector=bad[0]))
        return lambda row: flt.match(row.adaptor)
    needle = text.lower()
    return lambda row: needle in row.haystack


def _selectors(flt) -> list:
    out = []
    for child in getattr(flt, "filters", ()) or ():
        out.extend(_selectors(child))
    out.extend(getattr(flt, "selectors", ()) or ())
    if hasattr(flt, "fieldpath"):
        out.append(flt)
    return out
