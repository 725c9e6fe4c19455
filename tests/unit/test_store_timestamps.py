"""Timestamps keep nanoseconds through comparison, pickling, copying and datetime arithmetic."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timedelta, timezone

import pytest

from store.timestamps import ZERO_NS, Timestamp, format_rfc3339, parse_rfc3339


def test_compare_by_nanoseconds():
    a, b = Timestamp.from_ns(1), Timestamp.from_ns(999)
    assert a != b and a < b and b > a and a <= b and not a >= b
    assert hash(a) == hash(b)  # same microsecond; equality stays consistent with hashing
    assert len({a, b, Timestamp.from_ns(1)}) == 2
    assert a == datetime(1970, 1, 1, tzinfo=timezone.utc)  # against plain datetimes: datetime rules


@pytest.mark.parametrize("ns", [0, 1, 1_795_815_824_136_140_351, ZERO_NS, -1, 2**63 - 1])
def test_pickle_and_copy_keep_nanoseconds(ns):
    ts = Timestamp.from_ns(ns)
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(ts, proto))
        assert type(back) is Timestamp and back.ns == ns
    assert copy.copy(ts).ns == ns and copy.deepcopy(ts).ns == ns


def test_datetime_operations_still_give_ns():
    ts = Timestamp.from_ns(1_795_815_824_136_140_351)
    later = ts + timedelta(seconds=1)
    assert later.ns == 1_795_815_825_136_140_000  # arithmetic keeps microseconds
    assert ts.replace(microsecond=0).ns == 1_795_815_824_000_000_000


def test_from_ns_matches_slow_path_exactly():
    import random

    rng = random.Random(1)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for _ in range(20000):
        ns = rng.randrange(0, 4_102_444_800 * 10**9)
        ts = Timestamp.from_ns(ns)
        assert ts == epoch + timedelta(microseconds=ns // 1000) and ts.ns == ns and ts.tzinfo is not None


@pytest.mark.parametrize("text,ns", [
    ("2026-11-27T21:43:16.250576068Z", 1_795_815_796_250_576_068),
    ("2026-11-27T22:45:55.970897846+01:00", 1_795_815_955_970_897_846),
    ("2026-11-27T21:43:16Z", 1_795_815_796_000_000_000),
    ("0001-01-01T00:00:00Z", ZERO_NS),
])
def test_rfc3339_round_trip(text, ns):
    assert parse_rfc3339(text) == ns
    if text.endswith("Z"):
        assert format_rfc3339(ns) == text


@pytest.mark.parametrize("bad", ["", "2026-11-27", "2026-11-27T21:43:16.1234567891Z", "2026-13-01T00:00:00Z",
                                 "2026-11-27 21:43:16Z", "2026-11-27T21:43:16.Z"])
def test_rfc3339_rejects(bad):
    with pytest.raises(ValueError):
        parse_rfc3339(bad)
