"""Random-access reads of a blob through containerd's ``Read`` stream."""

from __future__ import annotations

import logging
from typing import Iterator

from .. import errors
from ..digest import Digest
from ._pb import content_pb2

log = logging.getLogger(__name__)


class ContainerdReaderAt:
    """``ReaderAt`` over the daemon: ``size`` is fixed when opened, each read is one ``Read`` call.

    Sequential consumers should prefer :meth:`chunks`, which streams the blob in one call
    (the daemon answers in 1 MiB messages).
    """

    def __init__(self, store, digest: Digest, size: int):
        self._store = store
        self.digest = digest
        self.size = size
        self._closed = False

    def read_at(self, n: int, offset: int) -> bytes:
        """Up to ``n`` bytes at ``offset``; fewer only at the end of the blob."""
        self._check_open()
        if n < 0 or offset < 0:
            raise errors.InvalidArgument(f"read of {self.digest}: negative size or offset ({n}, {offset})")
        if n == 0 or offset >= self.size:
            return b""
        n = min(n, self.size - offset)
        out = bytearray()
        for data in self._stream(offset, n):
            out += data
        if len(out) != n:
            raise errors.Unknown(
                f"short read of {self.digest} at offset {offset}: got {len(out)} of {n} bytes; "
                "the blob may have been damaged on the node"
            )
        return bytes(out)

    def chunks(self, offset: int = 0, size: int = 0) -> Iterator[bytes]:
        """The blob's bytes from ``offset`` (``size`` 0 = to the end), as the daemon sends them."""
        self._check_open()
        yield from self._stream(offset, size)

    def _stream(self, offset: int, size: int) -> Iterator[bytes]:
        req = content_pb2.ReadContentRequest(digest=str(self.digest), offset=offset, size=size)
        for resp in self._store._stream(self._store._content.Read, req, f"reading {self.digest}"):
            yield resp.data

    def _check_open(self) -> None:
        if self._closed:
            raise errors.FailedPrecondition(f"reader of {self.digest} is closed")

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> "ContainerdReaderAt":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
