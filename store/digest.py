"""Content digests, validated exactly as opencontainers/go-digest validates them.

A digest is checked before it is ever turned into a path, so text such as
``sha256:../../etc/passwd`` can never name a file outside ``blobs/``.
"""

from __future__ import annotations

import hashlib
import re

from . import errors

# Algorithm -> length of the lower-case hex encoding.
ALGORITHMS: dict[str, int] = {"sha256": 64, "sha384": 96, "sha512": 128}
CANONICAL = "sha256"

_GENERIC = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z")
_HEX = re.compile(r"[a-f0-9]+\Z")


def why_invalid(text: str) -> str | None:
    """The go-digest reason ``text`` is not a digest, or None when it is one."""
    i = text.find(":")
    if i <= 0 or i + 1 == len(text):
        return "invalid checksum digest format"
    alg, enc = text[:i], text[i + 1:]
    if alg not in ALGORITHMS:
        if _GENERIC.match(text):
            return "unsupported digest algorithm"
        return "invalid checksum digest format"
    if len(enc) != ALGORITHMS[alg]:
        return "invalid checksum digest length"
    if not _HEX.match(enc):
        return "invalid checksum digest format"
    return None


class Digest(str):
    """A validated ``<algorithm>:<hex>`` string.

    It *is* a ``str`` (so it compares, hashes, sorts and serialises like the
    text containerd uses), but it can only be built from valid text.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> "Digest":
        if isinstance(text, Digest):
            return text
        if not isinstance(text, str):
            raise errors.InvalidArgument(f"digest must be a string, not {type(text).__name__}")
        why = why_invalid(text)
        if why is not None:
            raise errors.InvalidArgument(f"invalid digest {text[:200]!r}: {why}")
        return super().__new__(cls, text)

    @classmethod
    def parse(cls, text: str) -> "Digest":
        return cls(text)

    @classmethod
    def from_bytes(cls, data: bytes, algorithm: str = CANONICAL) -> "Digest":
        if algorithm not in ALGORITHMS:
            raise errors.InvalidArgument(f"unsupported digest algorithm {algorithm!r}")
        return str.__new__(cls, f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}")

    @classmethod
    def from_hasher(cls, hasher) -> "Digest":
        """Digest of a running ``hashlib`` object (which is left usable)."""
        return str.__new__(cls, f"{hasher.name}:{hasher.hexdigest()}")

    @property
    def algorithm(self) -> str:
        return self.split(":", 1)[0]

    @property
    def encoded(self) -> str:
        return self.split(":", 1)[1]

    def short(self, n: int = 12) -> str:
        """The first ``n`` hex characters, as ``docker``/``ctr`` show them."""
        return self.encoded[:n]

    def hasher(self):
        return hashlib.new(self.algorithm)

    def __repr__(self) -> str:
        return f"Digest({str.__str__(self)!r})"

    def __reduce__(self):
        # read back without validating again (a graph copied in memory, store/graph_copy.py):
        # the text was valid when this digest was made
        return _valid, (str.__str__(self),)


def _valid(text: str) -> "Digest":
    return str.__new__(Digest, text)


def validate(value: "Digest | str") -> Digest:
    """``Digest(value)``; the name reads better at call sites that only check."""
    return Digest(value)


EMPTY = Digest.from_bytes(b"")
