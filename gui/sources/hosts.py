"""What the Sources and Compare dialogs need of whoever opens them, as protocols.

The SourcesController is that opener; naming only these parts keeps the dialogs from
importing the controller (which imports them) and says what they may touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from ..context import AppContext
    from ..jobs import JobRunner
    from .saved import Source, SourceList


class WindowParts(Protocol):
    """What the dialogs use of the main window."""

    store: Any
    runner: JobRunner
    ctx: AppContext


class CompareHost(Protocol):
    window: WindowParts

    def compare_choices(self) -> list[Source]: ...


class SourcesHost(Protocol):
    window: WindowParts
    sources: SourceList
    sourcesChanged: SignalInstance

    def fill_source_box(self) -> None: ...
    def open_source(self, source: Source) -> None: ...
