"""PyInstaller entry point for the `blobctl` command line (store.cli.main)."""
import sys

from store.cli import main

if __name__ == "__main__":
    sys.exit(main())
