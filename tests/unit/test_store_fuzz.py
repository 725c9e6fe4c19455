"""FuzzContentStoreWriter's idea with hypothesis: any split of writes, closes and resumes commits the same blob."""

from __future__ import annotations

import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from store import Digest, LocalStore


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3000),
       cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=6),
       truncate_at=st.one_of(st.none(), st.integers(min_value=0, max_value=6)))
def test_any_write_pattern_commits_the_right_blob(data, cuts, truncate_at):
    with tempfile.TemporaryDirectory() as root:
        store = LocalStore(root)
        bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
        dgst = Digest.from_bytes(data)
        for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
            with store.writer("myref", total=len(data)) as w:  # close + reopen between pieces
                assert w.status().offset == a and w.digest() == Digest.from_bytes(data[:a])
                if truncate_at == i:
                    w.truncate(0)
                    w.write(data[:a])
                w.write(data[a:b])
        w = store.writer("myref", total=len(data))
        assert w.status().offset == len(data)
        assert w.commit(len(data), dgst) == dgst
        with store.reader_at(dgst) as r:
            assert r.read_at(len(data) + 1, 0) == data
        assert store.list_statuses() == []
        store.labels.close()
