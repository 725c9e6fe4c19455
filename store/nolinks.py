"""Refusing symbolic links inside a store.

A link planted in a store (as ``blobs/<alg>``, ``labels.db``, a lock file, ...) could make
Blobscope read or write outside the store, so such paths are checked before they are used.
"""

from __future__ import annotations

import os
import stat

from . import errors


def refuse_links(*paths, so: str) -> None:
    """FailedPrecondition naming the first of ``paths`` that is a symbolic link; missing ones are fine.

    ``so`` says what is therefore not done, e.g. "its blobs are not read, written or deleted".
    """
    for path in paths:
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise errors.FailedPrecondition(
                    f"{path} is a symbolic link; Blobscope does not follow links inside a store, so {so}")
        except (FileNotFoundError, NotADirectoryError):
            pass


def not_a_file(path, mode: int) -> str:
    """Why ``path``, whose lstat mode is ``mode``, is not read: the start of an error message."""
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
    return f"{path} is {kind}; Blobscope does not follow or read it"
