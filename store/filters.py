"""containerd's filter language: the strings ``walk`` and ``list_statuses`` accept.

A *filter string* is one or more *selectors* separated by ``,`` that must all
match (AND); several filter strings are OR-ed (:func:`parse_all`).  A selector
is a field path alone (a presence test) or ``fieldpath op value`` with ``op``
one of ``==``, ``!=`` and ``~=`` (regular expression, unanchored search)::

    labels."containerd.io/gc.root"
    digest~=^sha256:a9,labels.flag==true
    ref~=/partial-\\d+/

The grammar, the tokeniser's quirks (which characters may start a value, where
whitespace is allowed, ``/…/`` and ``|…|`` only after ``~=``), Go's string
escapes and the error text (``filters: parse error: [abc >|d|< ef]: reason``)
are containerd's, as written down in containerd-store.md §4.  The code is a tokeniser plus a
recursive-descent parser written for Python; nothing is evaluated with
``eval``.

Deliberate differences, each small:

* Error positions count characters, not UTF-8 bytes, so the marked character
  ``>|x|<`` is always a whole character.
* Regular expressions are RE2 in containerd.  Here Python's ``re`` runs them
  after :func:`store.re2.translate` rewrote the RE2 features that ``re`` spells
  differently (``$`` means end of text, ``\\z``, ``\\Q…\\E``, ``\\x{…}``, octal,
  flags in the middle of a pattern and across ``|``, ASCII ``\\d \\s \\w \\b``,
  ``[[:alpha:]]``, quantified assertions, ``{,n}`` as a literal) and rejected
  what RE2 rejects (look-around, back-references, possessive quantifiers).
  ``\\p{…}`` classes and the ``U`` flag are not supported and count as an
  invalid regex.  tests/unit/test_filters_go.py checks all this against
  containerd's own Go code.  Unlike RE2, ``re`` backtracks: a pathological
  pattern on a long value can be slow.
* An invalid regex never matches (as in containerd) and is logged once per
  pattern, not once per item.

The adaptor protocol is containerd's: ``adaptor(fieldpath) -> (value, present)``.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from . import errors, re2

log = logging.getLogger(__name__)

Adaptor = Callable[[Sequence[str]], "tuple[str, bool]"]

__all__ = [
    "Filter", "Selector", "ALWAYS", "parse", "parse_all", "compile_filters", "adapt_info", "adapt_status",
    "quote", "format_fieldpath", "format_selector",
]

# ---------------------------------------------------------------------------
# Tokeniser

# Sentinels for "no more input" and "a character that may not appear at all"
# (NUL, invalid UTF-8 / lone surrogate, U+FFFD, which Go's decoder cannot tell apart).
_EOF = None
_BAD = object()

_QUOTES = frozenset('/|"')
_SEPARATORS = frozenset(",.")
_OPERATOR_CHARS = frozenset("=!~")
_SIMPLE_ESCAPES = frozenset("abfnrtv\\")
_FIELD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
# Unicode White_Space, which is what Go's unicode.IsSpace tests (Python's isspace
# also counts the ASCII separators \x1c-\x1f, Go does not).
_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Token kinds.
FIELD, VALUE, QUOTED, SEPARATOR, OPERATOR, ILLEGAL, END, OTHER = (
    "field", "value", "quoted", "separator", "operator", "illegal", "eof", "other",
)


def _is_value_char(ch) -> bool:
    # Letters, marks, numbers, punctuation and symbols: Go's IsGraphic minus spaces.  U+FFFD is a
    # symbol, but the scanner refuses it (it cannot tell it from invalid UTF-8): a value holding it
    # must be quoted.
    if ch is _EOF or ch is _BAD or ch == "," or ch == "\ufffd" or ch in _SPACE:
        return False
    return unicodedata.category(ch)[0] in "LMNPS"


def _digit_value(ch) -> int:
    if isinstance(ch, str) and ch in "0123456789abcdefABCDEF":
        return int(ch, 16)
    return 16  # larger than any base


class _Scanner:
    """Splits a filter string into tokens exactly where containerd's scanner does.

    ``pos`` is the start of the last character read and ``end`` the index after
    it; ``peek`` looks at one *character* (not token), which the parser relies on.
    The first error message is kept ("sticky"), as containerd keeps it.
    """

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.end = 0
        self.in_value = False  # set after an operator: the next token is a value
        self.error = ""

    def _fail(self, message: str) -> None:
        if not self.error:
            self.error = message

    def next(self):
        text = self.text
        if self.pos >= len(text):
            return _EOF
        self.pos = self.end
        if self.end >= len(text):
            return _EOF
        ch = text[self.end]
        self.end += 1
        if ch == "\0":
            self._fail("unexpected null")
            return _BAD
        if ch == "\ufffd" or "\ud800" <= ch <= "\udfff":
            self._fail("rune error")
            return _BAD
        return ch

    def peek(self):
        saved = self.pos, self.end
        ch = self.next()
        self.pos, self.end = saved
        return ch

    def scan(self) -> tuple[int, str, str]:
        """The next token as ``(position, kind, text)``."""
        ch = self.next()
        start = self.pos
        while ch is not _EOF and ch is not _BAD and ch in _SPACE:
            ch = self.next()
            start = self.pos
        if ch is _EOF:
            return self.pos, END, ""
        if ch is _BAD:
            return self.pos, ILLEGAL, ""
        if ch in _QUOTES:
            ok = self._scan_quoted(ch)
            return start, QUOTED if ok else ILLEGAL, self.text[start:self.end]
        if ch in _SEPARATORS:
            self.in_value = False
            return start, SEPARATOR, ch
        if ch in _OPERATOR_CHARS:
            while self.peek() in _OPERATOR_CHARS:
                self.next()
            self.in_value = True
            return start, OPERATOR, self.text[start:self.end]
        if self.in_value:
            # Any other character may start a value; it then runs on over graphic characters.
            while _is_value_char(self.peek()):
                self.next()
            self.in_value = False
            return start, VALUE, self.text[start:self.end]
        if ch in _FIELD_CHARS:
            while self.peek() in _FIELD_CHARS:
                self.next()
            return start, FIELD, self.text[start:self.end]
        return self.pos, OTHER, ch

    def _scan_quoted(self, quote: str) -> bool:
        legal = True
        ch = self.next()
        while ch != quote:
            if ch is _EOF or ch is _BAD or ch == "\n":
                self._fail("quoted literal not terminated")
                return False
            if ch == "\\":
                ch, ok = self._scan_escape(quote)
                legal = legal and ok
            else:
                ch = self.next()
        return legal

    def _scan_escape(self, quote: str):
        ch = self.next()
        if ch is _EOF or ch is _BAD:
            self._fail("illegal escape sequence")
            return ch, False
        if ch in _SIMPLE_ESCAPES or ch == quote:
            return self.next(), True
        if ch in "01234567":
            return self._scan_digits(ch, 8, 3)
        width = {"x": 2, "u": 4, "U": 8}.get(ch)
        if width:
            return self._scan_digits(self.next(), 16, width)
        self._fail("illegal escape sequence")
        return ch, False

    def _scan_digits(self, ch, base: int, count: int):
        while count > 0 and _digit_value(ch) < base:
            ch = self.next()
            count -= 1
        if count > 0:
            self._fail("illegal numeric escape sequence")
            return ch, False
        return ch, True


def tokenize(text: str) -> list[tuple[int, str, str]]:
    """All tokens of ``text`` up to and including the end (for tests and debugging)."""
    scanner = _Scanner(text)
    out = []
    while True:
        tok = scanner.scan()
        out.append(tok)
        if tok[1] == END:
            return out


# ---------------------------------------------------------------------------
# Unquoting (Go string-literal escapes; "/" and "|" act like '"')

class _QuoteSyntax(Exception):
    pass


_SIMPLE_VALUES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


def _unquote(token: str) -> str:
    quote = token[0]
    if len(token) < 2 or token[-1] != quote:
        raise _QuoteSyntax
    body = token[1:-1]
    if "\n" in body:
        raise _QuoteSyntax
    if "\\" not in body and quote not in body:
        return body
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == quote:
            raise _QuoteSyntax
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= n:
            raise _QuoteSyntax
        e = body[i + 1]
        i += 2
        if e in _SIMPLE_VALUES:
            out.append(_SIMPLE_VALUES[e])
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i:i + width]
            if len(digits) < width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise _QuoteSyntax
            i += width
            value = int(digits, 16)
            if e == "x":
                out.append(value)  # one byte, possibly not UTF-8, as in Go
            elif value > 0x10FFFF:
                raise _QuoteSyntax
            else:
                if 0xD800 <= value <= 0xDFFF:
                    value = 0xFFFD  # Go encodes a surrogate as the replacement character
                out += chr(value).encode("utf-8")
        elif e in "01234567":
            digits = body[i - 1:i + 2]
            if len(digits) < 3 or any(d not in "01234567" for d in digits):
                raise _QuoteSyntax
            i += 2
            value = int(digits, 8)
            if value > 255:
                raise _QuoteSyntax
            out.append(value)
        elif e in "'\"|/":
            if e != quote:
                raise _QuoteSyntax
            out.append(ord(e))
        else:
            raise _QuoteSyntax
    return out.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# The filter objects

class Filter:
    """Something that accepts or rejects an object seen through an adaptor."""

    #: True when the filter accepts everything, so callers can skip building adaptors.
    matches_everything = False

    def match(self, adaptor: Adaptor) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, adaptor: Adaptor) -> bool:
        return self.match(adaptor)


class _Always(Filter):
    matches_everything = True

    def match(self, adaptor: Adaptor) -> bool:
        return True

    def __repr__(self) -> str:
        return "ALWAYS"

    def __str__(self) -> str:
        return ""


ALWAYS: Filter = _Always()


@functools.lru_cache(maxsize=512)
def _compile(pattern: str):
    """The compiled regex for an RE2 pattern, or None (logged once) when RE2 would reject it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(re2.translate(pattern))
    except (re.error, re2.Unsupported, OverflowError, RecursionError) as exc:
        log.error("error compiling regexp %r: %s", pattern, exc)
        return None


@dataclass(frozen=True)
class Selector(Filter):
    """``fieldpath`` alone (``op == "?"``) or ``fieldpath op value``."""

    fieldpath: tuple[str, ...]
    op: str = "?"
    value: str = ""

    def match(self, adaptor: Adaptor) -> bool:
        value, present = adaptor(self.fieldpath)
        op = self.op
        if op == "?":
            return present
        if op == "==":
            return present and value == self.value
        if op == "!=":
            return value != self.value  # absent reads as "" (containerd's rule)
        regex = _compile(self.value)
        return regex is not None and regex.search(value) is not None

    @property
    def regex(self) -> "re.Pattern[str] | None":
        """The compiled pattern of a ``~=`` selector (None for another operator or an invalid one)."""
        return _compile(self.value) if self.op == "~=" else None

    @property
    def regex_valid(self) -> bool:
        """False for a ``~=`` selector whose pattern can never match (invalid regex)."""
        return self.op != "~=" or _compile(self.value) is not None

    def __str__(self) -> str:
        return format_selector(self.fieldpath, self.op, self.value)


@dataclass(frozen=True)
class AllOf(Filter):
    """One filter string: every selector must match."""

    selectors: tuple[Selector, ...]

    def match(self, adaptor: Adaptor) -> bool:
        for selector in self.selectors:
            if not selector.match(adaptor):
                return False
        return True

    def __str__(self) -> str:
        return ",".join(str(s) for s in self.selectors)


@dataclass(frozen=True)
class AnyOf(Filter):
    """Several filter strings: one must match."""

    filters: tuple[Filter, ...]

    def match(self, adaptor: Adaptor) -> bool:
        for f in self.filters:
            if f.match(adaptor):
                return True
        return False


# ---------------------------------------------------------------------------
# Parser

class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.scanner = _Scanner(text)

    def error(self, pos: int, reason: str) -> errors.InvalidArgument:
        text = self.text
        if pos < len(text):
            where = f"[{text[:pos]} >|{text[pos]}|< {text[pos + 1:]}]"
        else:
            where = f"[{text}]"
        return errors.InvalidArgument(f"filters: parse error: {where}: {reason}")

    def selectors(self) -> AllOf:
        found = [self.selector()]
        while True:
            ch = self.scanner.peek()
            if ch == ",":
                self.scanner.scan()
                found.append(self.selector())
            elif ch is _EOF:
                return AllOf(tuple(found))
            else:
                shown = "\ufffd" if ch is _BAD else ch
                raise self.error(self.scanner.end, f"unexpected input: {shown}")

    def selector(self) -> Selector:
        path = self.fieldpath()
        if self.scanner.peek() in (",", _EOF):
            return Selector(path)
        op = self.operator()
        return Selector(path, op, self.value(alt_quotes=op == "~="))

    def fieldpath(self) -> tuple[str, ...]:
        fields = [self.field()]
        while self.scanner.peek() == ".":
            self.scanner.scan()
            fields.append(self.field())
        return tuple(fields)

    def field(self) -> str:
        pos, kind, text = self.scanner.scan()
        if kind == FIELD:
            return text
        if kind == QUOTED:
            return self.unquote(pos, text, alt_quotes=False)
        if kind == ILLEGAL:
            raise self.error(pos, self.scanner.error)
        raise self.error(pos, "expected field or quoted")

    def operator(self) -> str:
        pos, kind, text = self.scanner.scan()
        if kind == OPERATOR:
            if text in ("==", "!=", "~="):
                return text
            raise self.error(pos, f"unsupported operator {_go_quote(text)}")
        if kind == ILLEGAL:
            raise self.error(pos, self.scanner.error)
        raise self.error(pos, 'expected an operator ("=="|"!="|"~=")')

    def value(self, alt_quotes: bool) -> str:
        pos, kind, text = self.scanner.scan()
        if kind in (VALUE, FIELD):
            return text
        if kind == QUOTED:
            return self.unquote(pos, text, alt_quotes)
        if kind == ILLEGAL:
            raise self.error(pos, self.scanner.error)
        raise self.error(pos, "expected value or quoted")

    def unquote(self, pos: int, text: str, alt_quotes: bool) -> str:
        if not alt_quotes and text[0] != '"':
            raise self.error(pos, "invalid quote encountered")
        try:
            return _unquote(text)
        except _QuoteSyntax:
            raise self.error(pos, "unquoting failed: quote syntax error") from None


def parse(text: str) -> Filter:
    """One filter string; ``""`` matches everything.  Raises ``errors.InvalidArgument``."""
    if not isinstance(text, str):
        raise errors.InvalidArgument(f"filters: a filter must be a string, not {type(text).__name__}")
    if text == "":
        return ALWAYS
    return _Parser(text).selectors()


def parse_all(*texts: str) -> Filter:
    """The OR of several filter strings; none at all (or any ``""``) matches everything."""
    if len(texts) == 1 and not isinstance(texts[0], str) and isinstance(texts[0], Iterable):
        texts = tuple(texts[0])  # parse_all(list_of_strings) is an easy mistake; accept it
    parsed = [parse(t) for t in texts]  # parse all, so a bad one raises even after an ""
    if not parsed or any(f is ALWAYS for f in parsed):
        return ALWAYS
    if len(parsed) == 1:
        return parsed[0]
    return AnyOf(tuple(parsed))


def compile_filters(texts: Sequence[str], adapt: "Callable[[object], Adaptor] | None" = None
                    ) -> "Callable[[object], bool] | None":
    """A predicate on items (seen through ``adapt``, :func:`adapt_info` by default) for the OR of
    ``texts``, or None when they match everything, so a caller skips matching item by item.

    Raises ``errors.InvalidArgument`` for a bad filter, as :func:`parse_all`.
    """
    flt = parse_all(*texts)
    if flt.matches_everything:
        return None
    match, adapt = flt.match, adapt or adapt_info
    return lambda item: match(adapt(item))


# ---------------------------------------------------------------------------
# Adaptors

def adapt_info(info) -> Adaptor:
    """Fields of a blob: ``digest`` and ``labels.<key>`` (``labels.a.b`` is key ``a.b``).

    ``size`` and the times are not fields, as in containerd (``size==12`` matches nothing).
    """
    def field(fieldpath: Sequence[str]) -> tuple[str, bool]:
        if not fieldpath:
            return "", False
        head = fieldpath[0]
        if head == "digest":
            return str(info.digest), True
        if head == "labels":
            labels = info.labels
            if not labels:
                return "", False
            key = fieldpath[1] if len(fieldpath) == 2 else ".".join(fieldpath[1:])
            value = labels.get(key)
            return ("", False) if value is None else (value, True)
        return "", False
    return field


def adapt_status(status) -> Adaptor:
    """Fields of an ingest: ``ref`` only."""
    def field(fieldpath: Sequence[str]) -> tuple[str, bool]:
        if fieldpath and fieldpath[0] == "ref":
            return status.ref, True
        return "", False
    return field


# ---------------------------------------------------------------------------
# Writing filters (for the GUI's "filter by this label" and round-trip tests)

def _go_quote(text: str) -> str:
    """``text`` as a Go double-quoted literal that this module's parser reads back."""
    out = ['"']
    for ch in text:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x20 or o == 0x7F or ch == "\ufffd" or 0xD800 <= o <= 0xDFFF:
            out.append(f"\\x{o:02x}" if o < 0x80 else f"\\u{o:04x}")
        elif not ch.isprintable():
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def quote(text: str) -> str:
    """A value or field as filter text: bare when the scanner keeps it whole, else ``"…"``."""
    if text and all(c in _FIELD_CHARS for c in text):
        return text
    return _go_quote(text)


def _value_text(value: str) -> str:
    if value and value[0] not in _QUOTES and value[0] not in _SEPARATORS \
            and value[0] not in _OPERATOR_CHARS and all(_is_value_char(c) for c in value):
        return value
    return _go_quote(value)


def format_fieldpath(fieldpath: Sequence[str]) -> str:
    return ".".join(quote(f) for f in fieldpath)


def format_selector(fieldpath: Sequence[str], op: str = "?", value: str = "") -> str:
    """Filter text that :func:`parse` turns back into exactly this selector."""
    path = format_fieldpath(fieldpath)
    if op == "?":
        return path
    return f"{path}{op}{_value_text(value)}"
