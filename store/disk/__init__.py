"""Where a containerd root's disk goes: what its ``meta.db`` records and what keeps what alive.

* :mod:`.metadata`: every record of ``meta.db`` the garbage collector looks at (images,
  containers, leases, blobs, ingests, snapshot records), read in one pass from a private copy
  into plain frozen dataclasses;
* :mod:`.gc`: a dry run of containerd 1.6's metadata garbage collector over those records:
  for each blob, snapshot, lease and ingest, collected or not, and the chain of references
  that keeps it alive (docs/gc.md).

Pure Python; nothing here imports grpc or Qt.
"""
