"""Where the window's store comes from: saved sources, the Sources and Compare dialogs, daemon connections."""
