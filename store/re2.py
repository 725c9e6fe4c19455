"""RE2 regular expressions rewritten into Python ``re`` syntax with the same meaning.

containerd's filters (:mod:`store.filters`, the ``~=`` operator) take their
patterns in Go's RE2 syntax, and the same filter string must select the same
blobs here as in ``ctr``.  Python's ``re`` reads most of RE2 but gives some of
it another meaning or refuses it, and accepts things RE2 refuses, so a pattern
cannot be handed to ``re.compile`` as it is.  :func:`translate` rewrites the
RE2 features that ``re`` spells differently:

* ``$`` is the end of the text (``re``'s also matches before a final newline),
  unless ``(?m)`` is on; ``\\z`` is ``re``'s ``\\Z``; ``\\Z`` does not exist;
* ``\\Q…\\E`` literals, ``\\x{…}`` and octal escapes;
* flags in the middle of a pattern, which apply up to the end of the
  enclosing group and across its ``|``, as explicit ``(?i:…)`` scopes;
* ``\\d \\s \\w \\b \\B`` are ASCII only; POSIX classes such as ``[[:alpha:]]``;
* zero-width assertions that take a quantifier (``^*``), ``{,n}`` and other
  ``{`` that start no repeat as literals, ``[``/``&``/``~``/``|`` literal in a class;
* ``(?<name>…)`` named groups as ``(?P<name>…)``.

It raises :class:`Unsupported` for what RE2 rejects (look-around,
back-references, possessive and nested quantifiers, repeat counts over 1000,
``(?x)``, ``(?#…)``, unbalanced brackets and unknown escapes), so a filter
using such a pattern never matches, as in containerd.  ``\\p{…}``/``\\pL``
Unicode classes, negated POSIX classes (``[[:^alpha:]]``) and the ``U`` flag
are RE2 but are not translated: they raise :class:`Unsupported` too.  tests/unit/test_filters_go.py checks the translation against RE2 through
containerd's own Go code.

The result runs on Python's backtracking engine, not on RE2's linear-time one:
a pathological pattern (``(a*)*b``) on a long value can take exponential time, and ``re``
holds the GIL while it matches, so every thread of the process waits.
:func:`backtracking_risk` names the usual shapes of such patterns (a repetition inside a
repetition that can consume the same characters, or alternatives inside a repetition that can
start alike) so a caller can refuse them before matching anything.
"""

from __future__ import annotations

import re

__all__ = ["Unsupported", "backtracking_risk", "translate"]


class Unsupported(Exception):
    """RE2 rejects this pattern (or it uses RE2 syntax we do not translate)."""


_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_WORD = "[0-9A-Za-z_]"
# Zero-width assertions as groups (RE2 lets them take a quantifier); \b and \B are ASCII in RE2.
_ASSERTIONS = {
    "A": "(?:\\A)", "z": "(?:\\Z)",
    "b": f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))",
    "B": f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))",
}
_PERL_CLASSES = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_NAME = re.compile(r"[A-Za-z0-9_]+>")
_FLAGS = re.compile(r"([imsU]*)(?:-([imsU]*))?([:)])")


def translate(pattern: str) -> str:
    """Rewrite an RE2 pattern into Python ``re`` syntax with the same meaning.

    Raises :class:`Unsupported` for what RE2 rejects (a filter using it then never matches) and
    for the RE2 syntax left untranslated (module docstring).
    """
    out: list[str] = []
    # One entry per open group: [multiline flag inside it, flags of the "(?i:" scopes opened for
    # "(?i)" at this level, which must be closed before its "|" and ")" and reopened after "|"].
    # The third item is where the group starts in out (a quantifier after ")" repeats all of it).
    groups: list[list] = [[False, [], 0]]
    i, n = 0, len(pattern)
    repeat_state = 0  # 1 just after a quantifier, 2 after its lazy "?"
    after_flags: int | None = None  # index in out of a "(?i:" with nothing after it yet
    atom = 0  # index in out where the last atom starts
    quantified = False  # the last atom already has a quantifier

    def escape_at(j: int, in_class: bool) -> tuple[str, int]:
        """Translate the escape starting at pattern[j] == "\\"; return (text, next index)."""
        if j + 1 >= n:
            raise Unsupported("trailing backslash")
        c = pattern[j + 1]
        if c in "dsw":
            body = _PERL_CLASSES[c]
            return (body if in_class else f"[{body}]"), j + 2
        if c in "DSW":
            if in_class:
                return "\\" + c, j + 2  # rare; Unicode semantics of Python kept
            return f"[^{_PERL_CLASSES[c.lower()]}]", j + 2
        if c in "afnrtv":
            return "\\" + c, j + 2
        if c == "x":
            if j + 2 < n and pattern[j + 2] == "{":
                close = pattern.find("}", j + 3)
                digits = pattern[j + 3:close] if close > 0 else ""
                if not digits or any(d not in "0123456789abcdefABCDEF" for d in digits) \
                        or int(digits, 16) > 0x10FFFF:
                    raise Unsupported("bad \\x{...}")
                return f"\\U{int(digits, 16):08x}", close + 1
            digits = pattern[j + 2:j + 4]
            if len(digits) < 2 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise Unsupported("bad \\x escape")
            return "\\x" + digits, j + 4
        if c in "01234567":
            k = j + 1
            while k < n and k < j + 4 and pattern[k] in "01234567":
                k += 1
            digits = pattern[j + 1:k]
            if c != "0" and len(digits) == 1:
                raise Unsupported("back-references are not RE2")
            return f"\\x{int(digits, 8):02x}" if int(digits, 8) < 256 else \
                f"\\u{int(digits, 8):04x}", k
        if not in_class and c in "AbBz":
            return _ASSERTIONS[c], j + 2
        if c == "Q" and not in_class:
            end = pattern.find("\\E", j + 2)
            literal = pattern[j + 2:] if end < 0 else pattern[j + 2:end]
            return re.escape(literal), (n if end < 0 else end + 2)
        if c.isascii() and not c.isalnum():
            return "\\" + c, j + 2
        if c in "pP":
            raise Unsupported(f"Unicode classes (\\{c}) are not supported")
        raise Unsupported(f"invalid escape \\{c}")

    while i < n:
        ch = pattern[i]
        if ch in "*+?{":
            m = _REPEAT.match(pattern, i) if ch == "{" else None
            if ch == "{" and not m:
                out.append("\\{")  # RE2 reads a "{" that starts no repeat (e.g. "{,3}") literally
                i += 1
                after_flags = None
                repeat_state = 0
                continue
            if m:
                low, high = int(m.group(1)), m.group(3)
                if low > 1000 or (high and int(high) > 1000) or (high and int(high) < low):
                    raise Unsupported("invalid repeat count")
                text, i = m.group(0), m.end()
            else:
                text, i = ch, i + 1
            lazy = repeat_state == 1 and text == "?"
            if repeat_state and not lazy:
                raise Unsupported("invalid nested repetition operator")
            if after_flags is not None:
                # RE2 repeats the atom before "(?i)": put the quantifier in front of our "(?i:"
                if quantified and not lazy:  # "a*(?i)*" is (a*)* in RE2; Python needs the group
                    out.insert(atom, "(?:")
                    out.insert(after_flags + 1, ")")
                    after_flags += 2
                out.insert(after_flags, text)
                after_flags += 1
            else:
                out.append(text)
            repeat_state = 2 if lazy else 1
            quantified = True
            continue
        previous_atom = (atom, quantified)
        atom = len(out)
        quantified = False
        if ch == "\\":
            text, i = escape_at(i, in_class=False)
            out.append(text)
        elif ch == "[":
            j = i + 1
            parts = ["["]
            if j < n and pattern[j] == "^":
                parts.append("^")
                j += 1
            first = True
            while True:
                if j >= n:
                    raise Unsupported("missing closing ]")
                c = pattern[j]
                if c == "]" and not first:
                    break
                first = False
                if c == "[" and pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    name = pattern[j + 2:end] if end > 0 else ""
                    if name not in _POSIX_CLASSES:
                        raise Unsupported("unsupported character class")
                    parts.append(_POSIX_CLASSES[name])
                    j = end + 2
                elif c == "\\":
                    text, j = escape_at(j, in_class=True)
                    parts.append(text)
                elif c in "[&~|":
                    parts.append("\\" + c)  # literal in RE2; Python warns about nested sets
                    j += 1
                else:
                    parts.append(c)
                    j += 1
            parts.append("]")
            out.append("".join(parts))
            i = j + 1
        elif ch == "(":
            if pattern.startswith("(?", i):
                rest = pattern[i + 2:]
                if rest.startswith("P<") and _NAME.match(rest, 2):
                    out.append("(?P<")
                    i += 4
                    groups.append([groups[-1][0], [], atom])
                elif rest.startswith("<") and _NAME.match(rest, 1):
                    out.append("(?P<")
                    i += 3
                    groups.append([groups[-1][0], [], atom])
                elif rest.startswith(("=", "!", "<=", "<!")):
                    raise Unsupported("look-around assertions ((?=, (?!, (?<=, (?<!) are not RE2")
                elif rest.startswith("P="):
                    raise Unsupported("back-references are not RE2")
                else:
                    m = _FLAGS.match(rest)
                    if not m or m.group(2) == "" or m.group(0) == ")":
                        raise Unsupported("unsupported group syntax")
                    on, off, closer = m.group(1), m.group(2) or "", m.group(3)
                    if "U" in on + off:
                        raise Unsupported("the U flag is not supported")
                    multiline = groups[-1][0]
                    if "m" in on:
                        multiline = True
                    if "m" in off:
                        multiline = False
                    flags = on + ("-" + off if off else "")
                    i += 2 + m.end()
                    if closer == ":":
                        out.append(f"(?{flags}:" if flags else "(?:")
                        groups.append([multiline, [], atom])
                    else:
                        # "(?i)" applies to the rest of the enclosing group: scope it explicitly.
                        if after_flags is None:
                            after_flags = len(out)
                        out.append(f"(?{flags}:")
                        groups[-1][0] = multiline
                        groups[-1][1].append(flags)
                        atom, quantified = previous_atom
                        repeat_state = 0  # as in Go: "a*(?i)*" repeats "a*" again, legally
                        continue  # the atom before it can still take a quantifier
            else:
                out.append("(")
                i += 1
                groups.append([groups[-1][0], [], atom])
        elif ch == ")":
            if len(groups) == 1:
                raise Unsupported("unexpected )")
            _, scopes, atom = groups.pop()
            out.append(")" * (len(scopes) + 1))
            i += 1
        elif ch == "|":
            scopes = groups[-1][1]
            out.append(")" * len(scopes) + "|" + "".join(f"(?{f}:" for f in scopes))
            i += 1
        elif ch == "$":
            out.append("(?:$)" if groups[-1][0] else "(?:\\Z)")  # RE2's $ is the end of the text
            i += 1
        elif ch == "^":
            out.append("(?:^)")  # a group, so that RE2's "^*" stays valid
            i += 1
        else:
            out.append(ch)
            i += 1
        after_flags = None
        repeat_state = 0
    if len(groups) != 1:
        raise Unsupported("missing closing )")
    out.append(")" * len(groups[0][1]))
    return "".join(out)


# ---------------------------------------------------------------------------- backtracking risk
# Character sets as (negated, chars): (False, {97}) is "a", (True, set()) is any character.
_ANY: tuple[bool, frozenset] = (True, frozenset())
_NONE: tuple[bool, frozenset] = (False, frozenset())


def _union(a, b):
    if not a[0] and not b[0]:
        return (False, a[1] | b[1])
    if a[0] and b[0]:
        return (True, a[1] & b[1])
    neg, pos = (a, b) if a[0] else (b, a)
    return (True, neg[1] - pos[1])


def _overlap(a, b) -> bool:
    if a[0] and b[0]:
        return True
    if not a[0] and not b[0]:
        return bool(a[1] & b[1])
    neg, pos = (a, b) if a[0] else (b, a)
    return bool(pos[1] - neg[1])


def backtracking_risk(pattern: str) -> str | None:
    """Why matching RE2 ``pattern`` with Python's ``re`` may take exponential time, or None.

    A heuristic over the translated pattern's parse tree: it finds ``(a+)+``, ``(a*)*``,
    ``(\\w+\\s?)+``, ``(.*,)+`` and ``(a|ab)*`` but lets ``(ab+)+``, ``([^,]+,)+`` and
    ``(foo|bar)+`` through.  An invalid pattern has no risk (it never matches).
    """
    try:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]
        tree = _parser.parse(translate(pattern))
    except (Unsupported, re.error, ImportError, RecursionError, OverflowError):
        return None
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
    categories = {
        c.CATEGORY_DIGIT: (False, frozenset(range(48, 58))),
        c.CATEGORY_SPACE: (False, frozenset(b" \t\n\r\f\v")),
        c.CATEGORY_WORD: (False, frozenset(b"0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")),
    }

    def in_set(items):
        out = _NONE
        negate = False
        for op, av in items:
            if op is c.NEGATE:
                negate = True
            elif op is c.LITERAL:
                out = _union(out, (False, frozenset([av])))
            elif op is c.RANGE and av[1] - av[0] <= 1024:
                out = _union(out, (False, frozenset(range(av[0], av[1] + 1))))
            elif op is c.CATEGORY and av in categories:
                out = _union(out, categories[av])
            else:
                return _ANY
        if negate:
            return (True, out[1]) if not out[0] else _ANY
        return out

    def atom_set(op, av):
        if op is c.LITERAL:
            return (False, frozenset([av]))
        if op is c.NOT_LITERAL:
            return (True, frozenset([av]))
        if op is c.IN:
            return in_set(av)
        return _ANY  # ANY, CATEGORY outside a class, ...

    def nullable(seq) -> bool:
        return all(item_nullable(op, av) for op, av in seq)

    def item_nullable(op, av) -> bool:
        if op in repeats:
            return av[0] == 0 or nullable(av[2])
        if op is c.SUBPATTERN:
            return nullable(av[3])
        if op is c.BRANCH:
            return any(nullable(alt) for alt in av[1])
        return op in (c.AT, c.ASSERT, c.ASSERT_NOT)

    def first(seq):
        out = _NONE
        for op, av in seq:
            if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            if op in repeats:
                out = _union(out, first(av[2]))
            elif op is c.SUBPATTERN:
                out = _union(out, first(av[3]))
            elif op is c.BRANCH:
                for alt in av[1]:
                    out = _union(out, first(alt))
            else:
                out = _union(out, atom_set(op, av))
            if not item_nullable(op, av):
                break
        return out

    def chars(seq):
        out = _NONE
        for op, av in seq:
            if op in repeats:
                out = _union(out, chars(av[2]))
            elif op is c.SUBPATTERN:
                out = _union(out, chars(av[3]))
            elif op is c.BRANCH:
                for alt in av[1]:
                    out = _union(out, chars(alt))
            elif op in (c.ASSERT, c.ASSERT_NOT, c.AT):
                continue
            else:
                out = _union(out, atom_set(op, av))
        return out

    def inner(seq, follow):
        """Problems inside the body of a repetition; ``follow`` is what may come after ``seq``
        (for the body itself: the start of the next iteration)."""
        for i, (op, av) in enumerate(seq):
            rest = seq[i + 1:]
            after = first(rest)
            if nullable(rest):
                after = _union(after, follow)
            if op in repeats and av[1] > 1 and _overlap(chars(av[2]), after):
                return "a repetition inside a repetition that can take the same characters"
            if op is c.SUBPATTERN:
                found = inner(av[3], after)
                if found:
                    return found
            if op is c.BRANCH:
                alts = av[1]
                firsts = [first(alt) for alt in alts]
                empty = [nullable(alt) for alt in alts]
                for j, a in enumerate(firsts):
                    if any(_overlap(a, b) for b in firsts[j + 1:]) or (
                            empty[j] and (sum(empty) > 1 or any(
                                _overlap(b, after) for k, b in enumerate(firsts) if k != j))):
                        return "alternatives inside a repetition that can match the same text"
                for alt in alts:
                    found = inner(alt, after)
                    if found:
                        return found
        return None

    def walk(seq):
        for op, av in seq:
            if op in repeats:
                if av[1] > 1:
                    found = inner(list(av[2]), first(av[2]))
                    if found:
                        return found
                found = walk(av[2])
            elif op is c.SUBPATTERN:
                found = walk(av[3])
            elif op is c.BRANCH:
                found = next((f for f in map(walk, av[1]) if f), None)
            elif op in (c.ASSERT, c.ASSERT_NOT):
                found = walk(av[1])
            else:
                found = None
            if found:
                return found
        return None

    return walk(tree)
