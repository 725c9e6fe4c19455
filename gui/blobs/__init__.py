"""The blobs pane: the table model, its columns and delegates, and the filter."""
