"""containerd's filter language (containerd-store.md §4), its filter and scanner tests and the
AdaptInfo cases (containerd-store.md §7.3)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from store import errors, filters
from store.digest import Digest
from store.filters import ALWAYS, Selector, adapt_info, adapt_status, parse, parse_all
from store.types import Info, Status

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- containerd's corpus

class Entry:
    def __init__(self, name="", other="", labels=None):
        self.name, self.other, self.labels = name, other, labels or {}

    def adaptor(self):
        def field(path):
            if path[0] == "name":
                return self.name, bool(self.name)
            if path[0] == "other":
                return self.other, bool(self.other)
            if path[0] == "labels":
                key = ".".join(path[1:])
                return self.labels.get(key, ""), key in self.labels
            return "", False
        return field


CORPUS = [
    Entry("foo", labels={"foo": "true"}),
    Entry("bar"),
    Entry("foo", labels={"foo": "present", "more complex label": "present"}),
    Entry("bar", labels={"bar": "true"}),
    Entry("fooer", labels={'more complex label with \\ and "': "present"}),
    Entry("fooer", labels={'more complex label with \\ and ".post': "present"}),
    Entry("baz", other="too complex, yo"),
    Entry("bazo", other="abc"),
    Entry("compound", labels={"foo": "omg_asdf.asdf-qwer"}),
]

# (input, indexes expected to match) — containerd's filters/filter_test.go TestFilters
MATCH_CASES = [
    ("", list(range(9))),
    ("name", list(range(9))),
    ("labels.foo", [0, 2, 8]),
    ("labels.foo,name", [0, 2, 8]),
    ("labels.foo==true", [0]),
    ("labels.foo==omg_asdf.asdf-qwer", [8]),
    ("name==bar", [1, 3]),
    ("name!=bar", [0, 2, 4, 5, 6, 7, 8]),
    ("name==bar,labels.bar", [3]),
    ('other=="too complex, yo"', [6]),
    ("other~=[abc]+,name!=foo", [6, 7]),
    ("other~=/[abc]+/,name!=foo", [6, 7]),
    ("other~=/[abc]{1,2}/,name!=foo", [6, 7]),
    ('other~=/[abc]{0,1}"\\//,name!=foo', []),
    ("name==bar,labels.bar==true", [3]),
    ("name==bar,labels.bar==wrong", []),
    ('name==foo,labels."more complex label"', [2]),
    (r'labels."more complex label with \\ and \""==present', [4]),
    (r'labels."more complex label with \\ and \"".post==present', [5]),
]

ERROR_CASES = [
    ("labels.|foo|==omg_asdf.asdf-qwer",
     "filters: parse error: [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered"),
    (r'labels.?"more complex label with \\ and \"".post==present',
     r'filters: parse error: [labels. >|?|< "more complex label with \\ and \"".post==present]: '
     "expected field or quoted"),
    ("name==foo,", "filters: parse error: [name==foo,]: expected field or quoted"),
    ("labels.", "filters: parse error: [labels.]: expected field or quoted"),
    ("image~=,id?=?fbaq", "filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted"),
    ("labels.ns/key==value",
     "filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated"),
    ("labels.key==/value",
     "filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated"),
    # containerd-store.md §4.2 - §4.5
    ("size~=.*", "filters: parse error: [size~= >|.|< *]: expected value or quoted"),
    ("labels.foo==/bar/", "filters: parse error: [labels.foo== >|/|< bar/]: invalid quote encountered"),
    ("a==b ,c", "filters: parse error: [a==b >| |< ,c]: unexpected input:  "),
    ("a==b ", "filters: parse error: [a==b >| |< ]: unexpected input:  "),
    ("ref , ref", 'filters: parse error: [ref  >|,|<  ref]: expected an operator ("=="|"!="|"~=")'),
    ("ref ", 'filters: parse error: [ref ]: expected an operator ("=="|"!="|"~=")'),
    ("labels.containerd.io/gc.root",
     "filters: parse error: [labels.containerd.io >|/|< gc.root]: quoted literal not terminated"),
    ("a=b", 'filters: parse error: [a >|=|< b]: unsupported operator "="'),
    ("a===b", 'filters: parse error: [a >|=|< ==b]: unsupported operator "==="'),
    ("a!~b", 'filters: parse error: [a >|!|< ~b]: unsupported operator "!~"'),
    (r'labels."\d"', r'filters: parse error: [labels. >|"|< \d"]: illegal escape sequence'),
    (r"ref~=/\d+/", r"filters: parse error: [ref~= >|/|< \d+/]: illegal escape sequence"),
    (r'labels."\xaz"', r'filters: parse error: [labels. >|"|< \xaz"]: illegal numeric escape sequence'),
    ('labels."abc', 'filters: parse error: [labels. >|"|< abc]: quoted literal not terminated'),
    ('a=="x\ny"', 'filters: parse error: [a== >|"|< x\ny"]: quoted literal not terminated'),
    (r'a=="\777"', r'filters: parse error: [a== >|"|< \777"]: unquoting failed: quote syntax error'),
    (r'a=="\U00110000"',
     r'filters: parse error: [a== >|"|< \U00110000"]: unquoting failed: quote syntax error'),
    ("a==", "filters: parse error: [a==]: expected value or quoted"),
    ("a== ", "filters: parse error: [a== ]: expected value or quoted"),
    ("  ", "filters: parse error: [  ]: expected field or quoted"),
    (",a", "filters: parse error: [ >|,|< a]: expected field or quoted"),
    ("=a", "filters: parse error: [ >|=|< a]: expected field or quoted"),
    ("a==b,", "filters: parse error: [a==b,]: expected field or quoted"),
    ("a.b.", "filters: parse error: [a.b.]: expected field or quoted"),
    ('a"b"', 'filters: parse error: [a >|"|< b"]: expected an operator ("=="|"!="|"~=")'),
    ("'x'==y", "filters: parse error: [ >|'|< x'==y]: expected field or quoted"),
    ("foo\x00bar", "filters: parse error: [foo >|\x00|< bar]: unexpected null"),
    ("a==b\x00", "filters: parse error: [a==b >|\x00|< ]: unexpected input: \ufffd"),
    ("a\udcff", "filters: parse error: [a >|\udcff|< ]: rune error"),
    ("a==b\x01", "filters: parse error: [a==b >|\x01|< ]: unexpected input: \x01"),
]


@pytest.mark.parametrize("text,expected", MATCH_CASES)
def test_containerd_filter_cases_match_the_same_entries(text, expected):
    f = parse(text)
    got = [i for i, entry in enumerate(CORPUS) if f.match(entry.adaptor())]
    assert got == expected


@pytest.mark.parametrize("text,message", ERROR_CASES)
def test_parse_errors_have_containerds_exact_text(text, message):
    with pytest.raises(errors.InvalidArgument) as caught:
        parse(text)
    assert caught.value.message == message
    assert str(caught.value) == message + ": invalid argument"  # what ParseAll returns
    with pytest.raises(errors.InvalidArgument):
        parse_all("labels.ok", text)


# --------------------------------------------------------------------------- scanner

SCANNER_CASES = {
    "name": [(0, "field", "name"), (4, "eof", "")],
    "name==value,foo!=bar": [
        (0, "field", "name"), (4, "operator", "=="), (6, "value", "value"), (11, "separator", ","),
        (12, "field", "foo"), (15, "operator", "!="), (17, "value", "bar"), (20, "eof", "")],
    "name~=[abc]\\+,foo=test": [
        (0, "field", "name"), (4, "operator", "~="), (6, "value", "[abc]\\+"), (13, "separator", ","),
        (14, "field", "foo"), (17, "operator", "="), (18, "value", "test"), (22, "eof", "")],
    "name~=/[abc]{0,2}/,foo=test": [
        (0, "field", "name"), (4, "operator", "~="), (6, "quoted", "/[abc]{0,2}/"),
        (18, "separator", ","), (19, "field", "foo"), (22, "operator", "="), (23, "value", "test"),
        (27, "eof", "")],
    # positions count characters here (containerd counts UTF-8 bytes: 6, 9, 10 ...)
    "name~=牛,labels.moo=true": [
        (0, "field", "name"), (4, "operator", "~="), (6, "value", "牛"), (7, "separator", ","),
        (8, "field", "labels"), (14, "separator", "."), (15, "field", "moo"), (18, "operator", "="),
        (19, "value", "true"), (23, "eof", "")],
    'name~="asdf\\n\\tfooo"': [
        (0, "field", "name"), (4, "operator", "~="), (6, "quoted", '"asdf\\n\\tfooo"'), (20, "eof", "")],
    "foo\x00bar": [(0, "field", "foo"), (3, "illegal", ""), (4, "field", "bar"), (7, "eof", "")],
    "foo = bar    ": [(0, "field", "foo"), (4, "operator", "="), (6, "value", "bar"), (13, "eof", "")],
    "compound.labels==punctuated_value.foo-bar": [
        (0, "field", "compound"), (8, "separator", "."), (9, "field", "labels"),
        (15, "operator", "=="), (17, "value", "punctuated_value.foo-bar"), (41, "eof", "")],
    "interrupted=": [(0, "field", "interrupted"), (11, "operator", "="), (12, "eof", "")],
    "doublevalue=value value": [
        (0, "field", "doublevalue"), (11, "operator", "="), (12, "value", "value"),
        (18, "field", "value"), (23, "eof", "")],
    '"leading quote".postquote==value': [
        (0, "quoted", '"leading quote"'), (15, "separator", "."), (16, "field", "postquote"),
        (25, "operator", "=="), (27, "value", "value"), (32, "eof", "")],
    "input==,id!=ff": [
        (0, "field", "input"), (5, "operator", "=="), (7, "separator", ","), (8, "field", "id"),
        (10, "operator", "!="), (12, "value", "ff"), (14, "eof", "")],
    "input~=/foo\\/bar/,id!=ff": [
        (0, "field", "input"), (5, "operator", "~="), (7, "quoted", "/foo\\/bar/"),
        (17, "separator", ","), (18, "field", "id"), (20, "operator", "!="), (22, "value", "ff"),
        (24, "eof", "")],
    "input~=|foo/bar|,id!=ff": [
        (0, "field", "input"), (5, "operator", "~="), (7, "quoted", "|foo/bar|"),
        (16, "separator", ","), (17, "field", "id"), (19, "operator", "!="), (21, "value", "ff"),
        (23, "eof", "")],
    "labels.containerd.io/key==value": [
        (0, "field", "labels"), (6, "separator", "."), (7, "field", "containerd"),
        (17, "separator", "."), (18, "field", "io"), (20, "illegal", "/key==value"), (31, "eof", "")],
    'labels."containerd.io\nkey"==value': [
        (0, "field", "labels"), (6, "separator", "."), (7, "illegal", '"containerd.io\n'),
        (22, "field", "key"), (25, "illegal", '"==value'), (33, "eof", "")],
    'labels."\\g"': [(0, "field", "labels"), (6, "separator", "."), (7, "illegal", '"\\g"'),
                     (11, "eof", "")],
}


@pytest.mark.parametrize("text", list(SCANNER_CASES))
def test_scanner_splits_tokens_like_containerd(text):
    assert filters.tokenize(text) == SCANNER_CASES[text]


def test_first_scanner_error_is_the_one_reported():
    # "\xg" sets "illegal numeric escape sequence"; the unterminated quote after it does not replace it
    with pytest.raises(errors.InvalidArgument, match=r"illegal numeric escape sequence: invalid argument\Z"):
        parse('a=="\\xg')
    with pytest.raises(errors.InvalidArgument, match=r"illegal escape sequence: invalid argument\Z"):
        parse('a=="abc\\')


# --------------------------------------------------------------------------- accepted syntax (containerd-store.md §4.2, §4.3)

@pytest.mark.parametrize("text,selectors", [
    ("labels.k==v=1", [(("labels", "k"), "==", "v=1")]),
    ("digest==sha256:abc", [(("digest",), "==", "sha256:abc")]),
    ("labels.foo==omg_asdf.asdf-qwer", [(("labels", "foo"), "==", "omg_asdf.asdf-qwer")]),
    ('ref~=".*"', [(("ref",), "~=", ".*")]),
    ("ref~=/.*/", [(("ref",), "~=", ".*")]),
    ("ref~=|a/b|", [(("ref",), "~=", "a/b")]),
    (r"ref~=/a\/b/", [(("ref",), "~=", "a/b")]),
    (r"ref~=|a\|b|", [(("ref",), "~=", "a|b")]),
    (r"ref~=\d+", [(("ref",), "~=", r"\d+")]),
    (r'ref~="\\d+"', [(("ref",), "~=", r"\d+")]),
    ('labels."containerd.io/gc.root"', [(("labels", "containerd.io/gc.root"), "?", "")]),
    ('labels."a-b"==x', [(("labels", "a-b"), "==", "x")]),
    ("labels.a.b", [(("labels", "a", "b"), "?", "")]),
    ("labels.0_x", [(("labels", "0_x"), "?", "")]),
    ("  a == b", [(("a",), "==", "b")]),
    ("a==b, c", [(("a",), "==", "b"), (("c",), "?", "")]),
    ("a,\tb", [(("a",), "?", ""), (("b",), "?", "")]),
    ("x=='y'", [(("x",), "==", "'y'")]),
    ("x==a'b", [(("x",), "==", "a'b")]),
    ('x=="too complex, yo"', [(("x",), "==", "too complex, yo")]),
    (r'x=="\a\b\f\n\r\t\v\\\""', [(("x",), "==", "\a\b\f\n\r\t\v\\\"")]),
    (r'x=="\101\x42\u0043\U00000044"', [(("x",), "==", "ABCD")]),
    (r'x=="\xc3\xa9"', [(("x",), "==", "é")]),  # \x adds bytes, as in Go
    ('x==牛', [(("x",), "==", "牛")]),
    ("x==\x01y", [(("x",), "==", "\x01y")]),  # any character may start a value
])
def test_accepted_syntax(text, selectors):
    f = parse(text)
    assert [(s.fieldpath, s.op, s.value) for s in f.selectors] == selectors


# --------------------------------------------------------------------------- matching rules

def info(labels=None, digest=None):
    return Info(digest or Digest.from_bytes(b"x"), 1, NOW, NOW, labels or {})


def test_not_equal_is_true_when_the_field_is_absent():
    assert parse("labels.x!=y").match(adapt_info(info()))
    assert parse("labels.x!=y").match(adapt_info(info({"x": "z"})))
    assert not parse("labels.x!=y").match(adapt_info(info({"x": "y"})))
    with pytest.raises(errors.InvalidArgument):
        parse("labels.x!=")
    assert not parse('labels.x!=""').match(adapt_info(info()))  # absent reads as ""


def test_equal_needs_the_field_present():
    assert not parse('labels.x==""').match(adapt_info(info()))
    assert parse('labels.x==""').match(adapt_info(info({"x": ""})))


def test_regex_on_an_absent_field_runs_against_the_empty_string():
    assert parse("labels.x~=^$").match(adapt_info(info({"y": "1"})))
    assert not parse("labels.x~=^$").match(adapt_info(info({"x": "1"})))


def test_regex_is_an_unanchored_search():
    d = Digest.from_bytes(b"hello")
    assert parse(f"digest~={d.encoded[10:20]}").match(adapt_info(info(digest=d)))
    assert parse(f"digest~=^{d.algorithm}:{d.encoded[:4]}").match(adapt_info(info(digest=d)))
    assert not parse(f"digest~=^{d.encoded[:4]}").match(adapt_info(info(digest=d)))


def test_invalid_regex_is_not_a_parse_error_and_never_matches(caplog):
    filters._compile.cache_clear()  # the error is logged once per pattern, when it is first compiled
    f = parse("labels.x~=[a")
    with caplog.at_level(logging.ERROR, logger="store.filters"):
        assert not f.match(adapt_info(info({"x": "[a"})))
        assert not f.match(adapt_info(info({"x": "a"})))
    assert not parse("labels.x!=[a").match(adapt_info(info({"x": "[a"})))  # only ~= compiles
    assert not f.selectors[0].regex_valid
    assert any("error compiling regexp" in r.getMessage() for r in caplog.records)


def test_compiled_regexes_are_cached():
    filters._compile.cache_clear()
    f = parse("labels.x~=^v[0-9]+$")
    for n in range(1000):
        f.match(adapt_info(info({"x": f"v{n}"})))
    stats = filters._compile.cache_info()
    assert stats.misses == 1 and stats.hits == 999


def test_size_is_never_a_field():
    blob = info()
    assert not parse("size").match(adapt_info(blob))
    assert not parse("size==1").match(adapt_info(blob))


def test_spec_examples_on_blobs():
    flagged = info({"flag": "true"}, Digest("sha256:" + "a9" + "0" * 62))
    rooted = info({"containerd.io/gc.root": "2026"}, Digest("sha256:" + "40" + "0" * 62))
    blobs = [flagged, rooted]

    def names(*texts):
        f = parse_all(*texts)
        return [b is flagged and "flagged" or "rooted" for b in blobs if f.match(adapt_info(b))]

    assert names("labels.flag") == ["flagged"]
    assert names("labels.flag==true") == ["flagged"]
    assert names('labels."containerd.io/gc.root"') == ["rooted"]
    assert names("digest~=^sha256:a9") == ["flagged"]
    assert names("labels.flag,digest~=^sha256:40") == []  # AND
    assert names("labels.flag", "digest~=^sha256:40") == ["flagged", "rooted"]  # OR
    assert names("labels.x", "") == ["flagged", "rooted"]
    assert names() == ["flagged", "rooted"]


def test_spec_examples_on_ingests():
    statuses = [Status(r, 0, 0, None, NOW, NOW) for r in ("partial-ref", "other", "default/1/partial")]

    def refs(*texts):
        f = parse_all(*texts)
        return [s.ref for s in statuses if f.match(adapt_status(s))]

    assert refs("ref~=partial") == ["partial-ref", "default/1/partial"]
    assert refs("ref==partial-ref") == ["partial-ref"]
    assert refs("labels.x") == []
    with pytest.raises(errors.InvalidArgument, match=r"expected value or quoted"):
        parse("ref~=.*")
    with pytest.raises(errors.InvalidArgument):
        parse_all("partial.*")  # active's argument is a filter, not a regexp


def test_parse_all_shapes():
    assert parse_all() is ALWAYS
    assert parse("") is ALWAYS
    assert parse_all("", "a") is ALWAYS and ALWAYS.matches_everything
    assert parse_all(["a", "b"]).match(lambda p: ("", p == ("b",)))
    assert not parse_all("a", "b").match(lambda p: ("", False))
    with pytest.raises(errors.InvalidArgument, match="parse error"):
        parse_all("", "a=b")  # an empty string does not hide a bad one
    with pytest.raises(errors.InvalidArgument):
        parse(None)  # type: ignore[arg-type]


def test_compile_filters_is_none_when_everything_matches():
    assert filters.compile_filters(()) is None and filters.compile_filters(("",)) is None
    assert filters.compile_filters(("", "labels.x")) is None  # an "" in the OR accepts everything
    blob = info({"x": "1"})
    assert filters.compile_filters(("labels.x",))(blob) and not filters.compile_filters(("labels.y",))(blob)
    ref = filters.compile_filters(("ref==a",), adapt_status)
    assert ref(Status("a", 0, 0, None, NOW, NOW)) and not ref(Status("b", 0, 0, None, NOW, NOW))
    with pytest.raises(errors.InvalidArgument):
        filters.compile_filters(("", "a=b"))


# --------------------------------------------------------------------------- adaptors (content/adaptor_test.go)

@pytest.mark.parametrize("labels,path,expected", [
    ({}, (), ("", False)),
    ({}, ("size",), ("", False)),
    ({"foo": "bar"}, ("labels", "foo"), ("bar", True)),
    ({"foo.bar.qux": "quux"}, ("labels", "foo", "bar", "qux"), ("quux", True)),
    ({}, ("labels", "foo"), ("", False)),
    ({"": "empty key"}, ("labels",), ("empty key", True)),
    ({"a": "1"}, ("created_at",), ("", False)),
])
def test_adapt_info(labels, path, expected):
    assert adapt_info(info(labels))(path) == expected


def test_adapt_info_digest_is_always_present():
    d = Digest.from_bytes(b"foo")
    assert adapt_info(info(digest=d))(("digest",)) == (str(d), True)


def test_adapt_status_has_only_ref():
    s = Status("default/1/x", 3, 9, None, NOW, NOW)
    assert adapt_status(s)(("ref",)) == ("default/1/x", True)
    assert adapt_status(s)(("offset",)) == ("", False)
    assert adapt_status(s)(()) == ("", False)


def test_labels_a_b_and_quoted_a_dot_b_address_the_same_key():
    blob = info({"a.b": "1"})
    assert parse("labels.a.b==1").match(adapt_info(blob))
    assert parse('labels."a.b"==1').match(adapt_info(blob))


# --------------------------------------------------------------------------- properties

@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab_.,=!~/|"\\ \t\n0x7uU\x00é牛\'$*['), max_size=30)
       | st.text(max_size=40))
@example("\\")
@example('"\\')
@example("a==\"\\u")
def test_random_text_parses_or_raises_invalid_argument(text):
    try:
        f = parse(text)
    except errors.InvalidArgument as exc:
        assert exc.message.startswith("filters: parse error: [")
        return
    f.match(lambda p: ("v", True))
    f.match(lambda p: ("", False))


field_names = st.text(min_size=0, max_size=8)
values = st.text(max_size=12)
selectors = st.builds(
    lambda path, op, value: Selector(tuple(path), op, "" if op == "?" else value),
    st.lists(field_names, min_size=1, max_size=3),
    st.sampled_from(["?", "==", "!=", "~="]),
    values,
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(selectors, min_size=1, max_size=4))
@example([Selector(("",), "==", "\ufffd")])  # found by hypothesis: U+FFFD must be quoted
def test_formatted_filters_parse_back_to_the_same_selectors(sels):
    text = ",".join(str(s) for s in sels)
    assert parse(text).selectors == tuple(sels)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=20))
def test_quote_round_trips_any_value(value):
    f = parse(f"labels.k=={filters.quote(value)}")
    assert f.selectors[0].value == value
    g = parse(f"labels.{filters.quote(value)}")
    assert g.selectors[0].fieldpath == ("labels", value)


def test_a_filter_for_every_label_of_a_blob_matches_that_blob():
    labels = {"containerd.io/gc.root": "x", "a b": 'say "hi"', "k": "v=1,2", "dots.in.key": ".x"}
    blob = info(labels)
    for key, value in labels.items():
        text = filters.format_selector(("labels", key), "==", value)
        assert parse(text).match(adapt_info(blob)), text
