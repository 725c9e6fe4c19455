"""Recognise what a blob is (OCI / Docker media types) by reading as little of it as possible.

A blob's media type is not stored in a content store: containerd keeps it in the
descriptor that points at the blob.  For a browser we sniff it instead:

* magic numbers in the first 512 bytes (gzip, zstd, tar, nothing at all);
* for JSON, the whole document, but only when it starts with ``{`` and is at
  most :data:`JSON_LIMIT` bytes (registries refuse manifests above 4 MiB, so a
  bigger document is never a manifest and is not worth parsing).

The result is a small immutable :class:`ContentType`.  Content is addressed by its
digest and never changes, so results are cached per digest forever in a
:class:`MediaTypeCache` (SQLite) and a rescan of a 100k-blob store reads nothing.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import logging
import os
import sqlite3
import sys
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from . import errors, workers
from .digest import Digest
from .gcpause import paused_gc
from .imagenames import annotated_name

log = logging.getLogger(__name__)

# --- media types, spelled as the OCI image spec and Docker's distribution spec spell them ----
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"  # withdrawn in 1.1, still seen
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
JSON = "application/json"
GZIP = "application/gzip"
ZSTD = "application/zstd"
TAR = "application/x-tar"
TEXT = "text/plain"
OCTET_STREAM = "application/octet-stream"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST, OCI_ARTIFACT_MANIFEST,
                            DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
LAYER_TYPES = frozenset({OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_LAYER_NONDIST_GZIP,
                         "application/vnd.oci.image.layer.nondistributable.v1.tar",
                         "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                         DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN,
                         "application/vnd.docker.image.rootfs.diff.tar",
                         "application/vnd.docker.image.rootfs.diff.tar.zstd"})

HEAD_SIZE = 512
JSON_LIMIT = 4 * 1024 * 1024
# How much compressed input we are willing to inflate to find a tar header (bombs stay cheap).
_DECOMPRESS_INPUT_LIMIT = 256 * 1024
# Bump when the sniffing rules change, so cached answers from older rules are recomputed.
# 2: an index's or manifest's own image name annotation is kept (ContentType.name).
SNIFF_VERSION = 2


class Kind(str, enum.Enum):
    """What a blob is, coarsely: what the GUI picks an icon for."""

    INDEX = "index"        # OCI image index / Docker manifest list
    MANIFEST = "manifest"  # image manifest, Docker schema 1/2 manifest, artifact manifest
    CONFIG = "config"      # image config (has rootfs / architecture)
    LAYER = "layer"        # tar, possibly gzip or zstd compressed
    JSON = "json"          # any other JSON (or JSON too big to look at)
    TEXT = "text"          # UTF-8 text that is not JSON
    BINARY = "binary"      # anything else, including compressed non-tar data
    EMPTY = "empty"        # 0 bytes

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Platform:
    os: str = ""
    architecture: str = ""
    variant: str = ""
    os_version: str = ""

    def __str__(self) -> str:
        parts = [self.os or "?", self.architecture or "?"]
        if self.variant:
            parts.append(self.variant)
        text = "/".join(parts)
        return f"{text} ({self.os_version})" if self.os_version else text

    def to_json(self) -> dict:
        d = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            d["variant"] = self.variant
        if self.os_version:
            d["os.version"] = self.os_version
        return d

    @classmethod
    def from_json(cls, doc) -> "Platform | None":
        if not isinstance(doc, dict):
            return None
        return cls(_str(doc.get("os")), _str(doc.get("architecture")), _str(doc.get("variant")),
                   _str(doc.get("os.version")))


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A reference found inside a manifest or index.

    ``role`` says where it was found: ``manifest`` (an index entry), ``config``,
    ``layer``, ``blob`` (artifact manifest blobs), ``subject`` (the manifest this
    one is a referrer of).  ``index`` is its position among descriptors of that role.
    """

    role: str
    index: int
    digest: Digest
    size: int
    media_type: str = ""
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str = ""

    @property
    def name(self) -> str:
        """The edge name containerd would give it in a ``gc.ref.content.*`` label."""
        if self.role == "manifest":
            return f"m.{self.index}"
        if self.role == "layer":
            return f"l.{self.index}"
        if self.role == "config":
            return "config"
        if self.role == "subject":
            return "subject"
        return f"{self.role}.{self.index}"

    def __reduce__(self):
        # pickled field by field without the dataclass's own __getstate__/__setstate__ (a Python
        # call looking the fields up, per descriptor: most of the time of copying a graph)
        return _descriptor, (self.role, self.index, self.digest, self.size, self.media_type, self.platform,
                             self.annotations, self.artifact_type)

    def to_json(self) -> dict:
        d = {"role": self.role, "index": self.index, "digest": str(self.digest), "size": self.size,
             "mediaType": self.media_type}
        if self.platform is not None:
            d["platform"] = self.platform.to_json()
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        return d

    @classmethod
    def from_json(cls, d: dict, digests: dict | None = None) -> "Descriptor":
        text = d["digest"]
        # ``digests`` memoises validated digests: the same layer is listed by many manifests.
        digest = digests.get(text) if digests is not None else None
        if digest is None:
            digest = Digest(text)
            if digests is not None:
                digests[text] = digest
        plat = d.get("platform")
        # A cache row holds what to_json wrote: values of the right types, set without the frozen
        # dataclass's __init__ and its checks.
        # Slots, interned role and media type strings, and one shared empty map for absent
        # annotations: a million-blob store's graph holds hundreds of thousands of descriptors
        # (192 bytes each with a __dict__ and their own strings, 80 like this).
        obj = _new_object(cls)
        _set(obj, "role", _intern(d["role"]))
        _set(obj, "index", d["index"])
        _set(obj, "digest", digest)
        _set(obj, "size", d["size"])
        _set(obj, "media_type", _intern(d.get("mediaType", "")))
        _set(obj, "platform", _platform(plat) if plat is not None else None)
        _set(obj, "annotations", d.get("annotations") or _NO_ANNOTATIONS)
        _set(obj, "artifact_type", d.get("artifactType", ""))
        return obj


_new_object = object.__new__
_set = object.__setattr__
_intern = sys.intern
_DESCRIPTOR_FIELDS = ("role", "index", "digest", "size", "media_type", "platform", "annotations", "artifact_type")


def _descriptor(*values) -> Descriptor:
    obj = _new_object(Descriptor)
    for name, value in zip(_DESCRIPTOR_FIELDS, values):
        _set(obj, name, value)
    return obj
_NO_ANNOTATIONS: Mapping[str, str] = {}  # shared by every descriptor without annotations: never changed
_PLATFORMS: dict[tuple, Platform | None] = {}


def _platform(doc) -> Platform | None:
    """``Platform.from_json``, with equal platforms shared (a store names a handful, many times)."""
    if not isinstance(doc, dict) or len(doc) > 4:
        return Platform.from_json(doc)
    key = tuple(doc.items())
    try:
        p = _PLATFORMS.get(key, False)
    except TypeError:  # a value that is a list or an object: not hashable, and not shared
        return Platform.from_json(doc)
    if p is False:
        p = Platform.from_json(doc)
        if len(_PLATFORMS) < 4096:
            _PLATFORMS[key] = p
    return p  # type: ignore[return-value]


@dataclass(frozen=True)
class ContentType:
    """What a blob turned out to be.

    ``media_type`` is spelled as OCI/Docker spell it (``application/octet-stream``
    when nothing better is known).  ``descriptors`` is filled for indexes and
    manifests.  ``platform`` is set for image configs.  ``note`` explains odd
    cases in a sentence (malformed JSON, too large to inspect, corrupt gzip...).
    """

    media_type: str
    kind: Kind
    descriptors: tuple[Descriptor, ...] = ()
    artifact_type: str = ""
    platform: Platform | None = None
    note: str = ""
    name: str = ""  # an index's or manifest's own image name annotation (store.imagenames.annotated_name)

    @property
    def is_image(self) -> bool:
        """True for an index or a manifest: something that can be the top of an image."""
        return self.kind in (Kind.INDEX, Kind.MANIFEST)

    def to_json(self) -> dict:
        d: dict = {"mediaType": self.media_type, "kind": self.kind.value}
        if self.descriptors:
            d["descriptors"] = [x.to_json() for x in self.descriptors]
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.platform is not None:
            d["platform"] = self.platform.to_json()
        if self.note:
            d["note"] = self.note
        if self.name:
            d["name"] = self.name
        return d


# --- sniffing ----------------------------------------------------------------------------------

ReadAt = Callable[[int, int], bytes]  # (n, offset) -> bytes, like ReaderAt.read_at


def sniff_bytes(data: bytes) -> ContentType:
    """Recognise a whole blob held in memory (tests, small blobs)."""
    return sniff(lambda n, off: data[off:off + n], len(data))


def sniff(read_at: ReadAt, size: int) -> ContentType:
    """Recognise a blob of ``size`` bytes reading it through ``read_at(n, offset)``.

    Reads at most 512 bytes, plus the whole blob when it may be JSON and is at most
    :data:`JSON_LIMIT` bytes, plus up to 256 KiB of compressed data to find a tar header.
    """
    if size <= 0:
        return ContentType(OCTET_STREAM, Kind.EMPTY)
    head = read_at(min(size, HEAD_SIZE), 0)
    packing = archive_format(head, size)
    if packing == "tar":
        return ContentType(OCI_LAYER, Kind.LAYER)
    if packing is not None:
        return _sniff_compressed(read_at, size, packing)
    stripped = head.lstrip(b" \t\r\n")
    if stripped.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark before JSON
        stripped = stripped[3:].lstrip(b" \t\r\n")
    if stripped.startswith(b"{"):
        if size > JSON_LIMIT:
            return ContentType(JSON, Kind.JSON,
                               note=f"starts like JSON but is larger than {JSON_LIMIT // (1024 * 1024)} MiB, so it was not parsed")
        return classify_json_bytes(_read_rest(read_at, size, head))
    return _sniff_text_or_binary(head, size)


def _read_rest(read_at: ReadAt, size: int, head: bytes) -> bytes:
    """The whole blob, ``head`` (its first bytes, already read) followed by the rest."""
    chunks, off = [head], len(head)
    while off < size:
        b = read_at(min(1 << 20, size - off), off)
        if not b:
            break
        chunks.append(b)
        off += len(b)
    return b"".join(chunks)


def archive_format(head: bytes, size: int) -> str | None:
    """``"gzip"``, ``"zstd"`` or ``"tar"`` from the first 512 bytes of a blob of ``size`` bytes; else None."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "tar" if _looks_like_tar(head, size) else None


def _looks_like_tar(head: bytes, size: int | None) -> bool:
    """ustar magic, or a zero block (an empty layer is nothing but zero blocks, with no magic to find).

    ``size`` None: ``head`` is the start of decompressed data, whose length is not known.
    """
    if len(head) >= 262 and head[257:262] == b"ustar":
        return True
    return (len(head) == HEAD_SIZE and not head.strip(b"\0")
            and (size is None or (size >= 1024 and size % 512 == 0)))


def _sniff_compressed(read_at: ReadAt, size: int, algo: str) -> ContentType:
    try:
        out = _decompress_prefix(read_at, size, algo, HEAD_SIZE)
    except Exception as e:  # zlib.error, zstandard.ZstdError: the stream is damaged
        return ContentType(GZIP if algo == "gzip" else ZSTD, Kind.BINARY,
                           note=f"the {algo} stream could not be decompressed ({e})")
    if _looks_like_tar(out, None):
        return ContentType(OCI_LAYER_GZIP if algo == "gzip" else OCI_LAYER_ZSTD, Kind.LAYER)
    return ContentType(GZIP if algo == "gzip" else ZSTD, Kind.BINARY,
                       note=f"{algo} data that does not hold a tar archive")


class _PrefixFile(io.RawIOBase):
    """At most ``limit`` bytes of a blob as a file, for a decompressor that pulls its input."""

    def __init__(self, read_at: ReadAt, size: int, limit: int):
        self._read_at, self._end, self._pos = read_at, min(size, limit), 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), 16384, self._end - self._pos)
        if n <= 0:
            return 0
        data = self._read_at(n, self._pos)
        b[:len(data)] = data
        self._pos += len(data)
        return len(data)


def _decompress_prefix(read_at: ReadAt, size: int, algo: str, want: int) -> bytes:
    """The first ``want`` decompressed bytes; output is bounded too, so a compression bomb costs nothing."""
    if algo == "zstd":
        import zstandard

        src = _PrefixFile(read_at, size, _DECOMPRESS_INPUT_LIMIT)
        reader = zstandard.ZstdDecompressor().stream_reader(src, read_size=16384,  # type: ignore[arg-type]
                                                            closefd=False)  # any object with read() will do
        with reader as r:
            out = bytearray()
            while len(out) < want:
                chunk = r.read(want - len(out))
                if not chunk:
                    break
                out += chunk
            return bytes(out)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    off = 0
    while off < size and off < _DECOMPRESS_INPUT_LIMIT and len(out) < want:
        chunk = read_at(min(16384, size - off), off)
        if not chunk:
            break
        off += len(chunk)
        out += d.decompress(chunk, want - len(out))
        if d.unconsumed_tail:
            break  # zlib stopped at `want` bytes of output; that is all we need
    return bytes(out[:want])


def looks_like_text(data: bytes, *, cut: bool = True) -> bool:
    """No NUL byte and valid UTF-8 in the first 8 KiB of ``data``.

    A multi-byte character cut at the end of the sample is still text, and so at the end of
    ``data`` itself when ``cut`` says ``data`` is only the start of something longer.
    """
    sample = data[:8192]
    if b"\0" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        return ((cut or len(sample) < len(data)) and e.reason == "unexpected end of data"
                and e.start >= len(sample) - 3)
    return True


def _sniff_text_or_binary(head: bytes, size: int) -> ContentType:
    if looks_like_text(head, cut=len(head) < size):
        return ContentType(TEXT, Kind.TEXT)
    return ContentType(OCTET_STREAM, Kind.BINARY)


def classify_json_bytes(data: bytes) -> ContentType:
    """Recognise a blob that starts with ``{``: a manifest, index, config, other JSON, or not JSON."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        reason = str(e).splitlines()[0][:200]
        return ContentType(OCTET_STREAM, Kind.BINARY,
                           note=f"starts with '{{' but is not valid JSON ({reason})")
    return classify_json(doc)


def classify_json(doc) -> ContentType:
    """Recognise a parsed JSON document."""
    if not isinstance(doc, dict):
        return ContentType(JSON, Kind.JSON)
    if not doc:
        return ContentType(OCI_EMPTY, Kind.JSON)
    declared = doc.get("mediaType") if isinstance(doc.get("mediaType"), str) else ""
    problems: list[str] = []

    if isinstance(doc.get("manifests"), list) and (declared in INDEX_TYPES or not declared
                                                   or "config" not in doc):
        descs = _descriptors(doc["manifests"], "manifest", problems)
        descs += _subject(doc, problems)
        mt = DOCKER_MANIFEST_LIST if declared == DOCKER_MANIFEST_LIST else OCI_INDEX
        return ContentType(mt, Kind.INDEX, tuple(descs), artifact_type=_str(doc.get("artifactType")),
                           note=_problems_note(problems), name=annotated_name([doc.get("annotations")]))

    if declared == OCI_ARTIFACT_MANIFEST and isinstance(doc.get("blobs", []), list):
        descs = _descriptors(doc.get("blobs", []), "blob", problems) + _subject(doc, problems)
        return ContentType(OCI_ARTIFACT_MANIFEST, Kind.MANIFEST, tuple(descs),
                           artifact_type=_str(doc.get("artifactType")), note=_problems_note(problems))

    if isinstance(doc.get("config"), dict) and isinstance(doc.get("layers"), list) \
            and "digest" in doc["config"]:
        descs = _descriptors([doc["config"]], "config", problems)
        descs += _descriptors(doc["layers"], "layer", problems)
        descs += _subject(doc, problems)
        mt = DOCKER_MANIFEST if declared == DOCKER_MANIFEST else OCI_MANIFEST
        artifact = _str(doc.get("artifactType"))
        config_type = _str(doc["config"].get("mediaType"))
        if not artifact and config_type and config_type not in CONFIG_TYPES:
            artifact = config_type  # OCI 1.1: the config media type names the artifact
        return ContentType(mt, Kind.MANIFEST, tuple(descs), artifact_type=artifact,
                           note=_problems_note(problems), name=annotated_name([doc.get("annotations")]))

    if doc.get("schemaVersion") == 1 and isinstance(doc.get("fsLayers"), list):
        layers = [{"digest": x.get("blobSum"), "size": -1} for x in doc["fsLayers"] if isinstance(x, dict)]
        descs = _descriptors(layers, "layer", problems)
        mt = DOCKER_MANIFEST_V1_SIGNED if "signatures" in doc else DOCKER_MANIFEST_V1
        return ContentType(mt, Kind.MANIFEST, tuple(descs), note=_problems_note(problems))

    if isinstance(doc.get("rootfs"), dict) or ("architecture" in doc and "os" in doc):
        docker = any(k in doc for k in ("docker_version", "container_config", "container"))
        # an image config spells its platform as a descriptor's "platform" object does
        return ContentType(DOCKER_CONFIG if docker else OCI_CONFIG, Kind.CONFIG, platform=Platform.from_json(doc))

    return ContentType(JSON, Kind.JSON)


def _str(v) -> str:
    return v if isinstance(v, str) else ""


def _problems_note(problems: list[str]) -> str:
    if not problems:
        return ""
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


# Digests already validated in this process: a store's manifests name the same layers many times.
# Bounded (about 10 MiB), and emptied when full: a long-running GUI must not keep every digest.
_VALID_DIGESTS: dict[str, Digest] = {}
_VALID_DIGESTS_MAX = 1 << 16


def _descriptor_digest(text) -> Digest:
    """``Digest(text)``, remembering the valid ones (InvalidArgument for the rest, every time)."""
    dg = _VALID_DIGESTS.get(text) if type(text) is str else None
    if dg is None:
        dg = Digest(text)
        if len(_VALID_DIGESTS) >= _VALID_DIGESTS_MAX:
            _VALID_DIGESTS.clear()
        _VALID_DIGESTS[dg] = dg  # the Digest is its own key: a str equal to the text
    return dg


def _descriptors(items, role: str, problems: list[str]) -> list[Descriptor]:
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"{role} {i} is not an object")
            continue
        try:
            dg = _descriptor_digest(item.get("digest"))  # not a string: InvalidArgument
        except errors.InvalidArgument:
            problems.append(f"{role} {i} has an invalid digest {str(item.get('digest'))[:80]!r}")
            continue
        size = item.get("size")
        ann = item.get("annotations")
        ann = {str(k): str(v) for k, v in ann.items()} if isinstance(ann, dict) else {}
        plat = item.get("platform")
        out.append(Descriptor(role, i, dg, size if isinstance(size, int) and not isinstance(size, bool) else -1,
                              _str(item.get("mediaType")), _platform(plat) if plat is not None else None,
                              ann, _str(item.get("artifactType"))))
    return out


def _subject(doc, problems) -> list[Descriptor]:
    if isinstance(doc.get("subject"), dict):
        return _descriptors([doc["subject"]], "subject", problems)
    return []


def sniff_blob(store, digest) -> ContentType:
    """Recognise one blob of ``store`` (anything with ``reader_at``)."""
    with store.reader_at(digest) as r:
        return sniff(r.read_at, r.size)


# --- the per-digest cache ------------------------------------------------------------------------

_SIMPLE_TYPES: dict[tuple[str, str], ContentType] = {}


def _content_type_from_row(media_type: str, kind: str, detail: str | None,
                           digests: dict | None = None) -> ContentType:
    if not detail:
        # Most rows are a bare (media type, kind): share one immutable record per pair.
        ct = _SIMPLE_TYPES.get((media_type, kind))
        if ct is None:
            ct = _SIMPLE_TYPES.setdefault((media_type, kind), ContentType(media_type, Kind(kind)))
        return ct
    d = json.loads(detail)
    return ContentType(media_type, Kind(kind),
                       tuple(Descriptor.from_json(x, digests) for x in d.get("descriptors", ())),
                       d.get("artifactType", ""), Platform.from_json(d.get("platform")), d.get("note", ""),
                       d.get("name", ""))


def _row_detail(ct: ContentType) -> str | None:
    if not (ct.descriptors or ct.artifact_type or ct.platform is not None or ct.note or ct.name):
        return None  # most blobs (layers, binaries): nothing beyond the media type and kind
    d = ct.to_json()
    d.pop("mediaType")
    d.pop("kind")
    return json.dumps(d, separators=(",", ":")) if d else None


def default_cache_path(store) -> Path:
    """Where a store's media-type cache lives.

    Inside the store root (``<root>/.blobscope/cache.db``) when the store is writable;
    otherwise in the user's cache directory, keyed by the root path, because a
    containerd-owned root is never written to (design.md §4).  Either is correct for any
    store: an answer depends only on the digest.
    """
    root = getattr(store, "root", None)
    if root is not None and not getattr(store, "read_only", False):
        return Path(root) / ".blobscope" / "cache.db"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "blobscope"
    # A daemon-backed store has no root directory: key its cache by its address instead.
    where = str(Path(root).resolve()) if root is not None else str(getattr(store, "address", repr(store)))
    key = hashlib.sha256(where.encode()).hexdigest()[:16]
    return base / f"mediatypes-{key}.db"


class MediaTypeCache:
    """Digest -> :class:`ContentType`, persisted in SQLite; safe to share between threads.

    ``MediaTypeCache(None)`` keeps everything in memory.  If the file cannot be
    opened (read-only directory, damaged database) the cache logs why and works in
    memory, because a cache must never stop a browser from showing a store.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, create_parents: bool = True):
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._db = self._open(self.path, create_parents)

    @classmethod
    def for_store(cls, store) -> "MediaTypeCache":
        path = default_cache_path(store)
        root = getattr(store, "root", None)
        # inside the store only its own directory is made: a store deleted under the window is
        # not created again behind the user's back (the cache then lives in memory)
        inside = root is not None and path.parent.parent == Path(root)
        return cls(path, create_parents=not inside)

    @staticmethod
    def _open(path: Path | None, create_parents: bool = True) -> sqlite3.Connection:
        if path is not None:
            try:
                path.parent.mkdir(parents=create_parents, exist_ok=True)
                db = sqlite3.connect(str(path), timeout=10, check_same_thread=False,
                                     isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                MediaTypeCache._create(db)
                return db
            except (OSError, sqlite3.Error) as e:
                log.warning("media-type cache %s cannot be used (%s); keeping it in memory", path, e)
        db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        MediaTypeCache._create(db)
        return db

    @staticmethod
    def _create(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS media_types (digest TEXT PRIMARY KEY, version INTEGER NOT NULL,"
                   " media_type TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT)")

    def get(self, digest) -> ContentType | None:
        with self._lock:
            row = self._db.execute("SELECT media_type, kind, detail FROM media_types WHERE digest=? AND version=?",
                                   (str(digest), SNIFF_VERSION)).fetchone()
        return _content_type_from_row(*row) if row else None

    def get_many(self, digests: Iterable[str] | None = None) -> dict[Digest, ContentType]:
        """Cached answers for ``digests`` (all cached answers when None); misses are absent."""
        q = "SELECT digest, media_type, kind, detail FROM media_types WHERE version=?"
        with self._lock:
            if digests is None:
                rows = self._db.execute(q, (SNIFF_VERSION,)).fetchall()
            else:
                wanted = {d: d if isinstance(d, Digest) else Digest(d) for d in digests}
                if len(wanted) > 5000:  # one table scan beats thousands of IN (...) lookups
                    rows = [r for r in self._db.execute(q, (SNIFF_VERSION,)).fetchall() if r[0] in wanted]
                else:
                    rows = []
                    keys = list(wanted)
                    for i in range(0, len(keys), 500):
                        part = keys[i:i + 500]
                        rows += self._db.execute(q + f" AND digest IN ({','.join('?' * len(part))})",
                                                 (SNIFF_VERSION, *part)).fetchall()
        out: dict[Digest, ContentType] = {}
        # Descriptors mostly name blobs of this store: reuse their validated digests.
        memo: dict[str, Digest] = dict(wanted) if digests is not None else {}
        for dg, mt, kind, detail in rows:
            try:
                # Asked-for digests are already validated: reuse them instead of re-parsing the text.
                key = wanted[dg] if digests is not None else Digest(dg)
                out[key] = _content_type_from_row(mt, kind, detail, memo)
            except (ValueError, KeyError, TypeError, errors.InvalidArgument):
                log.warning("ignoring a damaged media-type cache entry for %s", dg)
        return out

    def put(self, digest, ct: ContentType) -> None:
        self.put_many([(digest, ct)])

    def put_many(self, items: Iterable[tuple[str, ContentType]]) -> None:
        self.put_rows([(str(d), SNIFF_VERSION, *_row(ct)) for d, ct in items])

    def put_rows(self, rows: list[tuple]) -> None:
        """Save ``(digest, SNIFF_VERSION, media type, kind, detail)`` rows, as ``_row`` makes them."""
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO media_types VALUES (?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                log.warning("could not save %d media types to the cache (%s)", len(rows), e)

    def prune(self, keep: Iterable[str]) -> int:
        """Drop answers for digests not in ``keep`` (blobs deleted since); returns how many went.

        ``keep`` must be a full listing of the store: anything else is forgotten.  Never needed
        for correctness (content is immutable), only to stop the file growing.  Bounded cost
        whatever the number of stale answers: one query for the cached digests, a set
        difference, and (when some went) one DELETE against a temporary table of them.
        (A temporary table of ``keep`` instead cost 1.1-1.4 s at 100k blobs, this 0.3-0.5 s.)
        """
        wanted = {str(d) for d in keep}
        with self._lock:
            db = self._db
            try:
                stale = [(d,) for (d,) in db.execute("SELECT digest FROM media_types") if d not in wanted]
                if not stale:
                    return 0
                db.execute("CREATE TEMP TABLE IF NOT EXISTS prune_stale (digest TEXT PRIMARY KEY) WITHOUT ROWID")
                db.execute("BEGIN")
                db.execute("DELETE FROM prune_stale")
                db.executemany("INSERT OR IGNORE INTO prune_stale VALUES (?)", stale)
                gone = db.execute("DELETE FROM media_types WHERE digest IN (SELECT digest FROM prune_stale)").rowcount
                db.execute("DELETE FROM prune_stale")
                db.execute("COMMIT")
            except sqlite3.Error as e:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                log.warning("could not prune the media-type cache (%s)", e)
                return 0
        log.info("dropped %d media types of deleted blobs from the cache", gone)
        return gone

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM media_types").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_SAVE_EVERY = 500
# Blobs to recognise below which starting worker processes costs more than they save.
PROCESS_MIN = 5000
# A spawned worker starts a fresh interpreter and imports the store first (about 0.3 s), not a
# forked copy (milliseconds; a warm fork server's workers are forked copies too, store/workers.py):
# it pays off only for this many times more blobs.
FRESH_INTERPRETER_FACTOR = 4


def _row(ct: ContentType) -> tuple[str, str, str | None]:
    """A content type as the cache stores it: (media type, kind, detail JSON or None)."""
    return ct.media_type, ct.kind.value, _row_detail(ct)


def _outcome_row(result) -> tuple:
    """What a worker sends back for one blob: a cache row, or (None, "gone"/"error", why)."""
    if isinstance(result, ContentType):
        return _row(result)
    return None, "gone" if isinstance(result, errors.NotFound) else "error", str(result)


_worker_stores: dict = {}  # (store class, root) -> store, one per worker process


def _sniff_chunk(store_class, root: str, digests: list[str]) -> list[tuple]:
    """Recognise ``digests`` of the store at ``root`` in a worker process (any start method).

    The digests were validated by the caller before they were sent (``classify`` makes a
    Digest of each): they become Digests again here without being checked twice.
    """
    store = _worker_stores.get((store_class, root))
    if store is None:
        store = _worker_stores[(store_class, root)] = store_class(root, writable=False)
    trusted = [_trusted_digest(Digest, d) for d in digests]
    return [_outcome_row(result) for _, result in store.read_each(trusted, sniff)]


_trusted_digest = str.__new__


def _sniff_each(store, digests: list[Digest]) -> Iterable[tuple[Digest, ContentType | Exception]]:
    """Each blob read once: through the store's ``read_each`` when it has one, else ``reader_at``."""
    each = getattr(store, "read_each", None)
    if each is not None:
        yield from each(digests, sniff)
        return
    for d in digests:
        try:
            yield d, sniff_blob(store, d)
        except (OSError, errors.ContentError) as e:
            yield d, e


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _sniff_in_processes(store, digests: list[Digest], start_method: str, jobs: int,
                        cancel: Callable[[], bool]) -> Iterator[tuple[list[Digest], list[tuple]]]:
    """``(chunk, rows)`` in order, the chunks recognised by ``jobs`` worker processes.

    Only what the workers need crosses the process boundary (the store's class and root, the
    digests; back the cache rows), so any start method works: ``fork`` for a command line,
    ``forkserver`` (store/workers.py) or ``spawn`` for a process that must not fork (a Qt application).
    """
    from concurrent.futures import TimeoutError

    size = max(500, -(-len(digests) // (jobs * 8)))  # several chunks each: progress and cancel stay prompt
    chunks = [digests[i:i + size] for i in range(0, len(digests), size)]
    root = os.fspath(store.root)

    def here(chunk: list[Digest]) -> list[tuple]:
        return [_outcome_row(result) for _, result in store.read_each(chunk, sniff)]

    futures: list = []
    pool = None
    try:
        # Ctrl-C reaches the whole process group: the workers ignore it and the caller stops them;
        # a GUI's workers run at a lower priority than its threads (store/workers.py)
        pool = workers.executor(start_method, min(jobs, len(chunks)))
        futures = [pool.submit(_sniff_chunk, type(store), root, [str(d) for d in chunk]) for chunk in chunks]
    except Exception as e:  # noqa: BLE001 - no processes here (limits, no /dev/shm...): one process does it
        log.warning("worker processes (%s) could not be started (%s); recognising blobs in this one",
                    start_method, e)
    try:
        for n, chunk in enumerate(chunks):
            rows = None
            while n < len(futures):
                if cancel():
                    return
                try:
                    rows = futures[n].result(timeout=0.1)
                    break
                except TimeoutError:
                    continue
                except Exception as e:  # noqa: BLE001 - a worker died (killed, out of memory): read them here
                    log.warning("a media-type worker failed (%s); recognising its blobs in this process", e)
                    break
            if rows is None:
                if cancel():
                    return
                rows = here(chunk)
            yield chunk, rows
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def classify(store, infos: Iterable, cache: MediaTypeCache | None = None, *,
             known: Mapping[str, ContentType] | None = None,
             cancel: Callable[[], bool] | None = None,
             progress: Callable[[int, int], None] | None = None,
             partial: Callable[[dict[Digest, ContentType]], None] | None = None,
             processes: str | None = None, jobs: int | None = None) -> dict[Digest, ContentType]:
    """Content types of many blobs: cached answers, and a sniff (saved to the cache) for the rest.

    ``infos`` are :class:`Info` records (or digests).  ``known`` holds types the caller has
    already recognised (e.g. in an earlier pass over the same scan): used as they are, without
    asking the cache or reading the blob.  Each blob is opened once and read from one
    prefetched head (a local store's ``read_each``).  A blob that vanished or cannot
    be read is left out of the result (and logged).  ``cancel()`` is polled between
    blobs and raises :class:`errors.Cancelled`; what was sniffed so far stays cached.
    ``progress(done, total)`` is called after each batch of sniffs (saved then), and
    ``partial(types)`` first with the answers ``known`` and the cache gave, then with each
    batch's content types, in the order the blobs were given.

    ``processes`` names a multiprocessing start method (``fork`` for a command line,
    ``forkserver``/``spawn`` where forking is unsafe, as in a Qt application): with it, a local
    store's many uncached blobs are recognised by ``jobs`` worker processes (default: one per
    core), since sniffing is Python work the GIL keeps on one core.
    """
    with paused_gc():
        return _classify(store, infos, cache, known=known, cancel=cancel, progress=progress,
                         partial=partial, processes=processes, jobs=jobs)


def _classify(store, infos, cache, *, known, cancel, progress, partial, processes, jobs) -> dict[Digest, ContentType]:
    digests = [Digest(getattr(i, "digest", i)) for i in infos]  # a no-op for Digest objects
    given = known or {}
    result = {d: given[d] for d in digests if d in given}
    asked = [d for d in digests if d not in result]
    cached = cache.get_many(asked) if cache is not None and asked else {}
    result.update((d, cached[d]) for d in asked if d in cached)
    missing = [d for d in asked if d not in cached]
    if partial is not None and result:
        partial({d: result[d] for d in digests if d in result})
    cancelled = cancel or (lambda: False)
    jobs = jobs or _cpus()
    done = 0
    pending: list[tuple] = []

    def save(batch: dict[Digest, ContentType]) -> None:
        nonlocal pending
        if cache is not None:
            cache.put_rows(pending)
        pending = []
        if partial is not None and batch:
            partial(batch)
        if progress is not None:
            progress(done, len(missing))

    def stop() -> errors.Cancelled:
        save({})
        return errors.Cancelled(f"recognising blobs stopped after {done} of {len(missing)}")

    if (processes is not None and jobs > 1
            and len(missing) >= PROCESS_MIN * (FRESH_INTERPRETER_FACTOR
                                               if workers.fresh_interpreter_per_worker(processes) else 1)
            and hasattr(store, "read_each") and getattr(store, "root", None) is not None):
        memo: dict[str, Digest] = {d: d for d in digests}  # descriptors mostly name blobs of this store
        for chunk, rows in _sniff_in_processes(store, missing, processes, jobs, cancelled):
            batch = {}
            for d, (mt, kind, detail) in zip(chunk, rows):
                if mt is None:
                    _log_unreadable(d, kind, detail)
                    continue
                batch[d] = _content_type_from_row(mt, kind, detail, memo)
                pending.append((str(d), SNIFF_VERSION, mt, kind, detail))
            done += len(chunk)
            result.update(batch)
            save(batch)
        if done < len(missing):
            raise stop()
        return result

    batch = {}
    for d, outcome in _sniff_each(store, missing):
        if cancelled():
            raise stop()
        done += 1
        if isinstance(outcome, ContentType):
            result[d] = batch[d] = outcome
            pending.append((str(d), SNIFF_VERSION, *_row(outcome)))
        else:
            _log_unreadable(d, *_outcome_row(outcome)[1:])
        if done % _SAVE_EVERY == 0:
            save(batch)
            batch = {}
    if missing:
        save(batch)
    return result


def _log_unreadable(d: Digest, why: str, message: str) -> None:
    if why == "gone":
        log.info("blob %s disappeared before it could be recognised", d)
    else:
        log.warning("blob %s could not be read to recognise it: %s", d, message)


def kind_of_media_type(media_type: str) -> Kind | None:
    """The kind an index, manifest, config or layer media type names; None for any other type."""
    if media_type in INDEX_TYPES:
        return Kind.INDEX
    if media_type in MANIFEST_TYPES:
        return Kind.MANIFEST
    if media_type in CONFIG_TYPES:
        return Kind.CONFIG
    if media_type in LAYER_TYPES:
        return Kind.LAYER
    return None


__all__ = [
    "Kind", "Platform", "Descriptor", "ContentType", "sniff", "sniff_bytes", "sniff_blob",
    "classify_json", "classify_json_bytes", "classify", "MediaTypeCache", "default_cache_path",
    "kind_of_media_type", "archive_format", "looks_like_text",
]
