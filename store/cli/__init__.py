"""``blobctl``: ``ctr content`` for a content-store directory, a containerd root, or a daemon.

Usage::

    blobctl [-v] [--root DIR [--force] | -a ADDRESS] [-n NAMESPACE] COMMAND ...

    ls [-q] [--json] [FILTER...]        blobs (filters OR-ed, containerd's language)
    active [--json] [FILTER...]         ingests (filter on ``ref``)
    get DIGEST                          the blob's bytes to standard output
    ingest REF [--expected-size N] [--expected-digest D]
                                        standard input into ingest REF, then commit
    import FILE... [--label K=V]...     files into the store (resumable), progress on a terminal
    rm DIGEST...                        delete blobs (missing ones are skipped with a note)
    label DIGEST [K=V | K= | K]...      set (K alone = "true") or remove (K=) labels
    abort REF...                        drop ingests; ``abort --broken NAME...`` drops damaged ones
    verify [--json] [DIGEST...]         re-hash blobs in parallel; exit 1 on any mismatch
    du [--json]                         counts and bytes of blobs and ingests
    namespaces [--json]                 containerd namespaces (daemon, or a root's meta.db)
    where DIGEST                        the namespaces that hold a blob
    gc --dry-run [--json]               what containerd's next GC pass deletes, and why the rest lives
    why ID                              the chain of references that keeps a record alive
    leases [ls] [--json]                a containerd root's leases and what only they keep

``-a/--address`` (default ``$CONTAINERD_ADDRESS`` unless ``--root`` is given) works
through a running containerd's gRPC content API, in namespace ``-n`` (default
``$CONTAINERD_NAMESPACE`` or ``default``); writes run under a lease and end with
``containerd.io/gc.root`` unless ``--no-gc-root`` (then only ``--label`` labels keep it).
``--root`` on a containerd root (or its content dir with ``-n``) is the read-only view
from a copy of ``meta.db``; while its daemon runs, ``--root`` refuses and names the socket.

The root is ``--root``, else ``$BLOBSCOPE_ROOT``, else the GUI's default store
(``${XDG_DATA_HOME:-~/.local/share}/blobscope/store``).  A root that belongs to
a containerd installation (its parent holds ``io.containerd.metadata.v1.bolt/meta.db``)
is only read unless ``--force`` is given.  Only ``ingest`` and ``import`` create
a missing root.

Exit status: 0 success, 1 an error (one line ``blobctl: <message>`` on stderr,
never a traceback), 2 a usage error, 130 interrupted.

JSON output (``--json``) is one JSON document on stdout, ASCII only (other
characters as ``\\uXXXX``), times as RFC 3339 UTC strings with nanoseconds
(``2026-11-27T21:43:16.250576068Z``).  These shapes are stable; new keys may be
added, none is removed or renamed:

* ``ls``: a list of ``{"digest", "size", "created_at", "updated_at", "labels"}``
  (``labels`` an object, keys sorted), in walk order (algorithm, then digest).
* ``active``: a list of ``{"ref", "offset", "total", "expected", "started_at",
  "updated_at"}`` sorted by ref (``total`` 0 = unknown, ``expected`` a digest or null).
* ``label``: the resulting labels as an object.
* ``verify``: a list of ``{"digest", "size", "ok", "error"}`` (``ok`` false and
  ``error`` null for a mismatch; ``error`` a message when the blob could not be read).
* ``du``: ``{"blob_count", "blob_bytes", "ingest_count", "ingest_bytes",
  "broken_ingest_count"}`` plus any figures an extension adds.

Extending: subcommands live in :data:`COMMANDS` (name -> :class:`Command`).  A
module adds one with the :func:`command` decorator; ``store/cli/graph.py`` is
imported, when it exists, before the parser is built, so its decorators run.
Extra ``du`` figures come from functions appended to :data:`DU_FIGURES`
(``fn(store) -> dict``, merged into ``du``'s output).

The package, one module per group of subcommands:

* :mod:`.common`: the command table, :class:`Context`, the exceptions and shared helpers;
  every other module imports it (never this package, so there is no import cycle);
* :mod:`.app`: the parser, the global options and :func:`main`;
* :mod:`.content`: ``ls``, ``get``, ``rm``, ``label``, ``verify``;
* :mod:`.ingests`: ``active``, ``ingest``, ``import``, ``abort``;
* :mod:`.usage`: ``du``;
* :mod:`.namespaces`: ``namespaces``, ``where``;
* :mod:`.graph`: ``tree``, ``refs`` and ``du``'s image figures (an extension, loaded by :mod:`.app`);
* :mod:`.disk`: ``gc --dry-run``, ``why``, ``leases`` on a containerd root (an extension, loaded by :mod:`.app`).
"""

from __future__ import annotations

from . import content, ingests, namespaces, usage  # noqa: F401  (their @command decorators register them)
from .app import build_parser, main
from .common import COMMANDS, DU_FIGURES, CliError, Command, Context, UsageError, command

__all__ = ["COMMANDS", "DU_FIGURES", "CliError", "Command", "Context", "UsageError", "build_parser", "command",
           "main"]
