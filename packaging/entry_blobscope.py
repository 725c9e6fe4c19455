"""PyInstaller entry point for the `blobscope` desktop application (gui.main)."""
import multiprocessing
import sys

from gui import main

if __name__ == "__main__":
    # Media types are recognised in worker processes forked by multiprocessing's fork server
    # (store/workers.py): in the frozen app the server (and its resource tracker) is this
    # executable again with `-c 'from multiprocessing.forkserver import main...'`, which
    # PyInstaller's freeze_support runs instead of the window; a spawned worker likewise.
    multiprocessing.freeze_support()
    sys.exit(main())
