"""The fleet room: many nodes' stores at once over SSH (docs/fleet.md), in the window's Fleet tab.

``ssh_thread`` (the one long-lived thread that opens single-node tunnels), ``settings`` (the
ssh_config path kept in QSettings), ``query`` (a FleetRunner on a thread of its own, its events
queued to the GUI thread), ``node_table`` (one row per node), ``digest_model`` (one row per
digest, with the presence filters), ``fleet_tab`` (the tab that puts them together).
"""
