"""PyInstaller entry point for the `blobscope` desktop application (gui.main)."""
import sys

from gui import main

if __name__ == "__main__":
    sys.exit(main())
