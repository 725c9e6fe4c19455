"""The Fleet tab's actions as commands (design.md §5.3): open a fleet file, refresh (what changed,
the selected nodes, or all), cancel, and show image drift (names on some nodes and not on others).

They act on a :class:`FleetHost` (the tab), never on the window; the tab's QActions call
:meth:`trigger`, and :meth:`enabled` decides their state after every change of the run.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from .base import Translated


class FleetHost(Protocol):
    """What the fleet commands use of the Fleet tab."""

    fleet_path: str | None

    @property
    def namespace(self) -> str: ...

    @property
    def running(self) -> bool: ...

    @property
    def acting(self) -> bool: ...
    def load(self, path: str) -> None: ...
    def refresh(self, asked: Sequence[str] = (), *, everything: bool = False) -> None: ...
    def selected_node_names(self) -> list[str]: ...
    def cancel_query(self) -> None: ...
    def address_of(self, name: str) -> str | None: ...
    def show_images(self, on: bool) -> None: ...


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
    """Read the fleet file again and query the nodes that need it: those whose daemon reported a change
    since their last listing, whose event stream is down, or that never answered; the others keep their
    listing (a run still going is cancelled first).  docs/fleet.md §9: a blob written on a node publishes
    no event, hence Refresh All and Refresh Selected."""

    action = "actionFleetRefresh"

    def enabled(self) -> bool:
        return self.host.fleet_path is not None

    def trigger(self) -> None:
        if self.enabled():
            self.host.refresh([])


class RefreshAllFleet(RefreshFleet):
    """Query every node of the fleet file again, changed or not."""

    action = "actionFleetRefreshAll"

    def trigger(self) -> None:
        if self.enabled():
            self.host.refresh([], everything=True)


class RefreshSelectedFleet(RefreshFleet):
    """Query the selected nodes again (and any that changed), whatever their events said."""

    action = "actionFleetRefreshSelected"

    def enabled(self) -> bool:
        return super().enabled() and bool(self.host.selected_node_names())

    def trigger(self) -> None:
        if self.enabled():
            self.host.refresh(self.host.selected_node_names())


class CancelFleet(FleetCommand):
    """Stop the run (or the action being planned or executed): running nodes have their tunnel closed,
    queued ones are not started; a node's write is given time to stop by itself first."""

    action = "actionFleetCancel"

    def enabled(self) -> bool:
        return self.host.running or self.host.acting

    def trigger(self) -> None:
        if self.enabled():
            self.host.cancel_query()


class OpenFleetNode(FleetCommand):
    """Open one node of the fleet in the Blobs tab (its ``ssh://`` address, the tab's namespace)."""

    def __init__(self, host: FleetHost, open_address):
        super().__init__(host)
        self.open_address = open_address  # (address, namespace) -> None: the window's source opener

    def trigger(self, name: str | None = None) -> None:
        address = self.host.address_of(name) if name else None
        if address:
            self.open_address(address, self.host.namespace)


class ShowImageDrift(FleetCommand):
    """One click: the image names present on some nodes and not on others, or on different target
    digests on different nodes (the table of digests again when clicked off)."""

    action = "actionFleetImages"

    def trigger(self, on: bool = True) -> None:
        self.host.show_images(on)


__all__ = ["FleetHost", "FleetCommand", "OpenFleet", "RefreshFleet", "RefreshAllFleet", "RefreshSelectedFleet",
           "CancelFleet", "OpenFleetNode", "ShowImageDrift"]
