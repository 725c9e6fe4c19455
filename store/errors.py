"""Error kinds of the content store.

The kinds mirror containerd's errdefs so callers can test "is it NotFound?" with
``except errors.NotFound``.  The text of an error is built as containerd builds
its own: ``<message>: <kind text>`` (e.g. ``content sha256:ab..: not found``),
so a person who knows containerd's messages recognises ours.
"""

from __future__ import annotations


class ContentError(Exception):
    """Base of every error the store raises on purpose."""

    kind = "unknown"

    def __init__(self, message: str = "", *, cause: BaseException | None = None):
        self.message = message
        self.cause = cause
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.message:
            return f"{self.message}: {self.kind}"
        return self.kind


class InvalidArgument(ContentError):
    kind = "invalid argument"


class NotFound(ContentError):
    kind = "not found"


class AlreadyExists(ContentError):
    kind = "already exists"


class FailedPrecondition(ContentError):
    kind = "failed precondition"


class Unavailable(ContentError):
    kind = "unavailable"


class NotImplementedErr(ContentError):
    """containerd's ``not implemented``; named so it does not shadow the builtin."""

    kind = "not implemented"


class Cancelled(ContentError):
    """The caller cancelled a long operation (an import); what was written so far is kept."""

    kind = "canceled"


class Unknown(ContentError):
    """An operating-system or other failure that has no containerd kind."""

    kind = "unknown"

    def __str__(self) -> str:  # containerd returns such errors raw, without a kind suffix
        return self.message or self.kind


__all__ = [
    "ContentError",
    "InvalidArgument",
    "NotFound",
    "AlreadyExists",
    "FailedPrecondition",
    "Unavailable",
    "NotImplementedErr",
    "Cancelled",
    "Unknown",
]
