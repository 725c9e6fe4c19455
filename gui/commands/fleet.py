"""The Fleet tab's actions as commands (design.md §5.3): open a fleet file, refresh, cancel.

They act on a :class:`FleetHost` (the tab), never on the window; the tab's QActions call
:meth:`trigger`, and :meth:`enabled` decides their state after every change of the run.
"""

from __future__ import annotations

from typing import Protocol

from .base import Translated


class FleetHost(Protocol):
    """What the fleet commands use of the Fleet tab."""

    fleet_path: str | None

    @property
    def running(self) -> bool: ...
    def load(self, path: str) -> None: ...
    def cancel_query(self) -> None: ...


class FleetCommand(Translated):
    action: str | None = None  # its QAction in gui/actions.py FLEET_SPECS

    def __init__(self, host: FleetHost):
        self.host = host

    def enabled(self) -> bool:
        return True

    def trigger(self) -> None:
        raise NotImplementedError


class OpenFleet(FleetCommand):
    """Read a fleet file (off the GUI thread) and query every node in it."""

    def trigger(self, path: str | None = None) -> None:
        if path:
            self.host.load(path)


class RefreshFleet(FleetCommand):
    """Read the fleet file again and query every node (a run still going is cancelled first)."""

    action = "actionFleetRefresh"

    def enabled(self) -> bool:
        return self.host.fleet_path is not None

    def trigger(self) -> None:
        if self.enabled():
            self.host.load(self.host.fleet_path or "")


class CancelFleet(FleetCommand):
    """Stop the run: running nodes have their tunnel closed, queued ones are not started."""

    action = "actionFleetCancel"

    def enabled(self) -> bool:
        return self.host.running

    def trigger(self) -> None:
        if self.enabled():
            self.host.cancel_query()


__all__ = ["FleetHost", "FleetCommand", "OpenFleet", "RefreshFleet", "CancelFleet"]
