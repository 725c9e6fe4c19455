"""The fleet: many nodes' containerd stores at once, each reached through the OpenSSH client.

``address`` (``ssh://`` node addresses), ``inventory`` (fleet files), ``tunnel`` (one ``ssh -L``),
``node`` (a ContainerdStore through a tunnel), ``runner`` (a bounded pool, per-node events),
``queries`` (what is asked of each node and the fleet summaries), ``session`` (an open view: kept
tunnels, each node's event stream, refreshes of what changed).  Pure Python, no Qt; see
docs/fleet.md.
"""

from .address import DEFAULT_SOCKET, SshAddress, is_ssh_address, parse
from .inventory import Node, parse_fleet, read_fleet
from .node import SshContainerdStore
from .runner import FleetRunner, NodeOutcome, NodeQuery, NodeState, run_fleet
from .tunnel import SshFailure, SshOptions, Tunnel

__all__ = ["SshAddress", "parse", "is_ssh_address", "DEFAULT_SOCKET", "Node", "read_fleet", "parse_fleet",
           "SshContainerdStore", "FleetRunner", "NodeOutcome", "NodeQuery", "NodeState", "run_fleet",
           "SshFailure", "SshOptions", "Tunnel"]
