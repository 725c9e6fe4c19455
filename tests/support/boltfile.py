"""Write small bbolt files for tests that need records a real daemon never writes (loops, bad kinds).

The file is what bbolt itself lays out for a small database: two meta pages, an empty freelist
page, the root bucket's leaf page (with overflow pages when it is long), and every nested
bucket inline in its parent's value (``root = 0`` followed by its own leaf page), as bbolt
stores buckets smaller than a quarter page.  ``tree`` maps keys (bytes) to values (bytes) or
to nested dicts (buckets); keys are written in sorted order, as bbolt keeps them.

Also: :func:`snapshot_db` writes a snapshotter's ``metadata.db`` from plain records, in the
schema of containerd's ``snapshots/storage`` (see store/disk/snapshotter.py).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Mapping, Union

PAGE = 4096
MAGIC, VERSION = 0xED0CDAED, 2
BRANCH, LEAF, META, FREELIST = 0x01, 0x02, 0x04, 0x10
BUCKET_LEAF = 0x01

Tree = Mapping[bytes, Union[bytes, "Tree"]]


def _fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _leaf(tree: Tree, pgid: int) -> bytes:
    """A leaf page (header included, no padding) holding ``tree``'s keys; nested dicts inline."""
    items = []
    for key in sorted(tree):
        value = tree[key]
        if isinstance(value, (bytes, bytearray)):
            items.append((0, bytes(key), bytes(value)))
        else:
            items.append((BUCKET_LEAF, bytes(key), struct.pack("<QQ", 0, 0) + _leaf(value, 0)))
    head = struct.pack("<QHHI", pgid, LEAF, len(items), 0)
    elems, data = b"", b""
    for i, (flags, key, value) in enumerate(items):
        pos = (len(items) - i) * 16 + len(data)  # from this element to its key
        elems += struct.pack("<IIII", flags, pos, len(key), len(value))
        data += key + value
    return head + elems + data


def _meta(txid: int, root: int, pages: int) -> bytes:
    body = struct.pack("<IIIIQQQQQ", MAGIC, VERSION, PAGE, 0, root, 0, 2, pages, txid)
    return struct.pack("<QHHI", txid % 2, META, 0, 0) + body + struct.pack("<Q", _fnv1a64(body))


def write(path: Path | str, tree: Tree) -> Path:
    """Write ``tree`` as a bbolt file at ``path``."""
    root = _leaf(tree, 3)
    root_pages = -(-len(root) // PAGE)
    if root_pages > 1:  # the page header says how many pages follow
        root = struct.pack("<QHHI", 3, LEAF, struct.unpack_from("<H", root, 10)[0], root_pages - 1) + root[16:]
    pages = 3 + root_pages
    out = bytearray(pages * PAGE)
    for txid in (0, 1):
        m = _meta(txid, 3, pages)
        out[txid * PAGE: txid * PAGE + len(m)] = m
    out[2 * PAGE: 2 * PAGE + 16] = struct.pack("<QHHI", 2, FREELIST, 0, 0)
    out[3 * PAGE: 3 * PAGE + len(root)] = root
    path = Path(path)
    path.write_bytes(bytes(out))
    return path


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def varint(n: int) -> bytes:
    return uvarint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def go_time(seconds: int) -> bytes:
    """Go's ``time.Time.MarshalBinary`` (version 1, UTC) of a Unix time."""
    return bytes([1]) + struct.pack(">qih", seconds + 62135596800, 0, -1)


KIND = {"view": 1, "active": 2, "committed": 3}


def snapshot_db(path: Path | str, records: list[dict]) -> Path:
    """A snapshotter ``metadata.db``: records ``{"key", "id", "kind", "parent"?, "labels"?, "size"?}``
    (``kind`` a name, or an int for a raw byte)."""
    snaps: dict[bytes, Tree] = {}
    for r in records:
        kind = r["kind"] if isinstance(r["kind"], int) else KIND[r["kind"]]
        rec: dict[bytes, object] = {b"id": uvarint(r["id"]), b"kind": bytes([kind]),
                                    b"createdat": go_time(1_700_000_000), b"updatedat": go_time(1_700_000_001)}
        if r.get("parent"):
            rec[b"parent"] = r["parent"].encode()
        if r.get("labels"):
            rec[b"labels"] = {k.encode(): v.encode() for k, v in r["labels"].items()}
        if "size" in r:
            rec[b"size"] = varint(r["size"])
            rec[b"inodes"] = varint(r.get("inodes", 1))
        snaps[r["key"].encode()] = rec  # type: ignore[assignment]
    return write(path, {b"v1": {b"snapshots": snaps, b"parents": {}}})
