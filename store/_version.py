"""The one place Blobscope's version is written (pyproject reads it, so do both commands)."""

__version__ = "0.1.0"
