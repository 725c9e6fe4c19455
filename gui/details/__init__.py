"""The details pane: one blob's fields, labels, preview and references; the label editor."""
