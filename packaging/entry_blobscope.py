"""PyInstaller entry point for the `blobscope` desktop application (gui.main)."""
import multiprocessing
import sys

from gui import main

if __name__ == "__main__":
    # Media types are recognised in spawned worker processes: in the frozen app such a worker
    # is this executable again, which freeze_support turns into the worker instead of a window.
    multiprocessing.freeze_support()
    sys.exit(main())
