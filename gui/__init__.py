"""Blobscope's desktop application (PySide6).  ``main`` is the ``blobscope`` entry point."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    # Imported here so ``blobscope --version`` and ``import gui.demo`` need no Qt set-up.
    from .app import main as _main
    return _main(argv)


__all__ = ["main"]
