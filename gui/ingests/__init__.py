"""The ingests pane and the import progress dialog."""
