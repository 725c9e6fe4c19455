"""store.re2: RE2 patterns (containerd's ``~=`` filters) rewritten for Python's ``re``.

The translation is checked against RE2 itself, through containerd's Go code, in
test_filters_go.py; these tests pin down each feature by hand, both through a
filter and by calling :func:`store.re2.translate` directly.
"""

from __future__ import annotations

import re
import string
import sys
import warnings

import pytest

from store import filters, re2
from store.filters import parse


def rx(pattern: str) -> re.Pattern:
    """The compiled translation, with any warning from ``re`` an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return re.compile(re2.translate(pattern))


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` (RE2) is found in ``text``: an unanchored search, as ``~=`` does."""
    return rx(pattern).search(text) is not None


# --------------------------------------------------------------------------- through a ~= filter
# (moved from test_filters.py: what containerd's ~= operator sees)

@pytest.mark.parametrize("pattern,value,matches", [
    ("abc$", "abc\n", False),       # RE2's $ is the end of the text
    ("abc$", "abc", True),
    ("(?m)abc$", "abc\nx", True),
    (r"abc\z", "abc", True),
    ("a(?i)BC", "aBc", True),       # flags in the middle of a pattern
    ("a(?i)BC", "ABC", False),
    ("(?i:X)y", "xy", True),
    ("(x(?i)Y)z", "xyz", True),
    ("(x(?i)Y)z", "xyZ", False),
    (r"^\d+$", "١٢", False),         # \d is ASCII in RE2
    (r"^\d+$", "12", True),
    (r"^\w+$", "é", False),
    (r"\Qa.b\E", "a.b", True),
    (r"\Qa.b\E", "axb", False),
    (r"\x{41}", "A", True),
    (r"\101", "A", True),            # octal
    (r"\012", "\n", True),
    ("[[:alpha:]]+[[:digit:]]", "ab1", True),
    ("[[:alpha:]]", "1", False),
    ("a{,3}", "a{,3}", True),        # not a repeat in RE2
    ("a{2}", "aa", True),
    ("[&~|[]", "[", True),
    ("(?P<x>a)b", "ab", True),
    ("(?s).", "\n", True),
    (".", "\n", False),
])
def test_re2_features_mean_what_they_mean_in_go(pattern, value, matches):
    f = parse(f"x~={filters._go_quote(pattern)}")
    assert f.match(lambda p: (value, True)) is matches


@pytest.mark.parametrize("pattern", [
    "(?=a)", "(?!a)", "(?<=a)a", "(?<!a)a", r"(a)\1", "(?P=x)", "a*+", "a**", "a*??", "(?x)a",
    "(?#c)", "(?>a)", r"\pL", "(?U)a", "a{1001}", "a{3,2}", "[a", "a)", "(a", r"\Z", r"\8", "\\",
])
def test_patterns_re2_rejects_never_match(pattern):
    f = parse(f"x~={filters._go_quote(pattern)}")
    assert not f.selectors[0].regex_valid
    assert not f.match(lambda p: ("a", True))


# --------------------------------------------------------------------------- translate()

ASCII = [chr(c) for c in range(128)]

# RE2's POSIX classes (ASCII only), written independently of the translator's table.
POSIX = {
    "alnum": lambda c: c in string.ascii_letters + string.digits,
    "alpha": lambda c: c in string.ascii_letters,
    "ascii": lambda c: ord(c) < 128,
    "blank": lambda c: c in " \t",
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127,
    "digit": lambda c: c in string.digits,
    "graph": lambda c: 33 <= ord(c) <= 126,
    "lower": lambda c: c in string.ascii_lowercase,
    "print": lambda c: 32 <= ord(c) <= 126,
    "punct": lambda c: c in string.punctuation,
    "space": lambda c: c in " \t\n\v\f\r",
    "upper": lambda c: c in string.ascii_uppercase,
    "word": lambda c: c in string.ascii_letters + string.digits + "_",
    "xdigit": lambda c: c in string.hexdigits,
}


@pytest.mark.parametrize("name", sorted(POSIX))
def test_posix_classes_are_exactly_their_ascii_sets(name):
    expected = POSIX[name]
    assert [c for c in ASCII if rx(f"^[[:{name}:]]$").match(c)] == [c for c in ASCII if expected(c)]
    assert [c for c in ASCII if rx(f"^[^[:{name}:]]$").match(c)] == [c for c in ASCII if not expected(c)]
    assert not rx(f"[[:{name}:]]").search("é\u00a0١Ä\u2028")  # never a non-ASCII character


def test_posix_classes_combine_with_other_class_items():
    assert [c for c in "a1_-%" if search("^[[:digit:]_-]$", c)] == ["1", "_", "-"]
    assert search("^[[:alpha:][:digit:]]+$", "abc123")
    assert not search("^[[:alpha:][:digit:]]+$", "abc 123")


@pytest.mark.parametrize("pattern,message", [
    ("[[:foo:]]", "unsupported character class"),
    ("[[:^alpha:]]", "unsupported character class"),   # RE2 has it; not translated
    ("[[:alpha:]", "missing closing ]"),
])
def test_unknown_or_untranslated_posix_classes_are_unsupported(pattern, message):
    with pytest.raises(re2.Unsupported, match=re.escape(message)):
        re2.translate(pattern)


@pytest.mark.parametrize("pattern", [r"\pL", r"\PL", r"\p{Greek}", r"\P{Lu}", r"[\pL]", r"a\pN"])
def test_unicode_classes_are_not_supported(pattern):
    with pytest.raises(re2.Unsupported, match=r"Unicode classes \(\\[pP]\) are not supported"):
        re2.translate(pattern)


@pytest.mark.parametrize("pattern,hits,misses", [
    (r"^\d+$", ["0", "0123456789"], ["١٢", "²", "a"]),             # ASCII digits only
    (r"^\w+$", ["aZ_09"], ["é", "ß", "_-"]),
    (r"^\s$", [" ", "\t", "\n", "\f", "\r"], ["\v", "\x85", "\u00a0", "\u2028"]),  # no \v in RE2
    (r"^\D$", ["a", "١"], ["5"]),
    (r"^\W$", ["é", "-"], ["a", "_"]),
    (r"^\S$", ["\v", "a"], [" ", "\t"]),
    (r"^[\d_]+$", ["1_2"], ["١"]),
    (r"\bx", ["x", "a x", "éx"], ["ax", "_x"]),                    # é is not a word character
    (r"x\B", ["xy", "x_"], ["x", "x-", "xé"]),
])
def test_perl_classes_and_word_boundaries_are_ascii(pattern, hits, misses):
    assert [t for t in hits if search(pattern, t)] == hits
    assert [t for t in misses if search(pattern, t)] == []


def test_case_insensitive_flag_for_the_whole_pattern():
    assert search("(?i)^abc$", "AbC")
    assert not search("^abc$", "AbC")


def test_a_flag_in_the_middle_applies_to_the_rest_of_its_group_and_across_bar():
    assert search("^a(?i)bc$", "aBC")
    assert not search("^a(?i)bc$", "ABC")                 # not to what came before
    assert search("^(?:a(?i)b|c)$", "C")                  # after "|" in the same group too
    assert not search("^(?:a(?i)b)c$", "abC")             # not past the group's ")"
    assert search("^(?i)a(?-i)b$", "Ab")
    assert not search("^(?i)a(?-i)b$", "AB")
    assert search("^(?i:a)b$", "Ab") and not search("^(?i:a)b$", "AB")


def test_multiline_and_dotall_flags():
    assert not search("a$", "a\nb") and search("(?m)a$", "a\nb")
    assert not search("^b", "a\nb") and search("(?m)^b", "a\nb")
    assert not search("a.b", "a\nb") and search("(?s)a.b", "a\nb")
    assert search("(?ms)^a.b$", "x\na\nb\ny")


def test_the_ungreedy_flag_and_unknown_flags_are_unsupported():
    with pytest.raises(re2.Unsupported, match="the U flag is not supported"):
        re2.translate("(?U)a+")
    for pattern in ("(?x)a", "(?a)b", "(?L)c", "(?)", "(?-)", "(?i"):
        with pytest.raises(re2.Unsupported, match="unsupported group syntax"):
            re2.translate(pattern)


def test_dollar_and_backslash_z_are_the_end_of_the_text():
    assert search(r"abc\z", "abc") and not search(r"abc\z", "abc\n")
    assert search("abc$", "abc") and not search("abc$", "abc\n")   # Python's own $ would match here
    assert re.search("abc$", "abc\n")                               # (the difference translated away)
    assert search(r"\Aabc", "abc") and not search(r"\Aabc", "xabc")
    with pytest.raises(re2.Unsupported, match=r"invalid escape \\Z"):
        re2.translate(r"abc\Z")                                       # Python's \Z is not RE2


@pytest.mark.parametrize("pattern", [r"(?P<tag>v\d+)", r"(?<tag>v\d+)"])
def test_named_groups_in_both_spellings(pattern):
    m = rx(pattern).search("release v12 done")
    assert m is not None and m.group("tag") == "v12" and m.groupdict() == {"tag": "v12"}


@pytest.mark.parametrize("pattern", ["(?P<>a)", "(?P<a-b>a)", "(?P<n", "(?<>a)"])
def test_malformed_group_names_are_unsupported(pattern):
    with pytest.raises(re2.Unsupported):
        re2.translate(pattern)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(a)(b)\2", r"(a)\7", "(?P<n>a)(?P=n)"])
def test_back_references_are_refused(pattern):
    with pytest.raises(re2.Unsupported, match="back-references are not RE2"):
        re2.translate(pattern)


def test_octal_escapes_are_not_back_references():
    assert search(r"^\0$", "\0")
    assert search(r"^\101\102$", "AB")
    assert search(r"^(a)\012$", "a\n")
    with pytest.raises(re2.Unsupported, match=r"invalid escape \\8"):
        re2.translate(r"(a)\8")


@pytest.mark.parametrize("pattern", ["(?=a)", "x(?!a)", "(?<=a)b", "(?<!a)b"])
def test_look_around_is_refused(pattern):
    with pytest.raises(re2.Unsupported, match="look-around assertions .* are not RE2"):
        re2.translate(pattern)


@pytest.mark.parametrize("pattern,message", [
    ("a*+", "invalid nested repetition operator"),    # possessive in Python 3.11+
    ("a++", "invalid nested repetition operator"),
    ("a{2}{3}", "invalid nested repetition operator"),
    ("a**", "invalid nested repetition operator"),
    ("(?>a)", "unsupported group syntax"),             # atomic group
    ("(?#comment)", "unsupported group syntax"),
    ("a{1001}", "invalid repeat count"),               # RE2's limit is 1000
    ("a{1,1001}", "invalid repeat count"),
    ("a{3,2}", "invalid repeat count"),
    ("(a", "missing closing )"),
    ("a)", "unexpected )"),
    ("[a", "missing closing ]"),
    ("\\", "trailing backslash"),
    (r"\x{110000}", r"bad \x{...}"),
    (r"\xZ1", r"bad \x escape"),
    (r"\e", r"invalid escape \e"),
])
def test_what_re2_refuses_is_unsupported_with_a_reason(pattern, message):
    with pytest.raises(re2.Unsupported, match=re.escape(message)):
        re2.translate(pattern)


def test_unsupported_is_its_own_exception_not_re_error():
    assert issubclass(re2.Unsupported, Exception) and not issubclass(re2.Unsupported, re.error)


@pytest.mark.parametrize("pattern,text,matches", [
    (r"^\Qa.b*\E$", "a.b*", True),
    (r"^\Qa.b*\E$", "axbb", False),
    (r"^\Q(unclosed", "(unclosed", True),               # \Q up to the end of the pattern
    (r"^\x{1F600}$", "\U0001F600", True),
    (r"^\x41\x{42}$", "AB", True),
    ("^a{,3}$", "a{,3}", True),                          # not a repeat in RE2: a literal "{"
    ("^a{,3}$", "aaa", False),
    ("^x{$", "x{", True),
    ("^a{1000}$", "a" * 1000, True),
    ("^a{2,}$", "aaaa", True),
    ("^a{2,3}?", "aaa", True),
    ("^*a", "a", True),                                  # RE2 lets an assertion take a quantifier
    (r"\b+x", "x", True),
    ("^[&~|[]+$", "&~|[", True),                         # literal in an RE2 class, no warning here
])
def test_literals_escapes_and_repeats(pattern, text, matches):
    assert search(pattern, text) is matches


def test_a_quantifier_after_a_mid_pattern_flag_repeats_the_atom_before_it():
    # RE2 reads "a(?i)*" as "a*" with the flag: the translation must not quantify the "(?i:" group
    assert rx("^ba(?i)*$").match("b") and rx("^ba(?i)*$").match("baaa")
    assert rx("^(?:xa*(?i)*)c$").match("xaac") and not rx("^(?:xa*(?i)*)c$").match("xaaC")


def test_pathological_patterns_translate_without_recursion():
    # The translator is a loop over the pattern, never recursive: deep nesting and long
    # patterns are fine (whatever re.compile then makes of them).
    depth = sys.getrecursionlimit() * 2
    deep = "(" * depth + "a" + ")" * depth
    assert re2.translate(deep) == deep
    long = "a|" * 50_000 + "b"
    assert re2.translate(long) == long
    with pytest.raises(re2.Unsupported, match="missing closing"):
        re2.translate("(" * depth)


def test_catastrophic_backtracking_shapes_are_kept_as_re2_accepts_them():
    # "(a*)*b" and "(a|aa)+$" are valid RE2 (linear time there); the translation keeps them as they
    # are for Python's backtracking engine, which is the documented caveat, not refused.
    assert re2.translate("(a*)*b") == "(a*)*b"
    assert search("^(a*)*b$", "aaab") and not search("^(a*)*b$", "aaa")
    assert re2.translate("(a|aa)+$") == "(a|aa)+(?:\\Z)"


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a*)*b", r"(\w+\s?)+$", "(.*,)+x", "(a|aa)+$", "(x|x)*y",
                                     r"(?:\d+)+x", "((ab)*)*c", "(x+x+)+y", "(?i)(A+)+"])
def test_backtracking_risk_names_exponential_shapes(pattern):
    assert re2.backtracking_risk(pattern)


@pytest.mark.parametrize("pattern", ["^sha256:ab", "(foo|bar)+", "([^,]+,)+", "(ab+)+", "web$", "(a|b)*",
                                     "(a|ab)*c", ".*foo.*", "(", "a**"])
def test_backtracking_risk_lets_linear_and_invalid_patterns_through(pattern):
    assert re2.backtracking_risk(pattern) is None
