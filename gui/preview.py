"""Turn the first bytes of a blob into something a person can read (no Qt, no disk).

JSON (manifests, indexes, configs) is pretty-printed, UTF-8 text is shown as is,
anything else as a hex dump; a media type is guessed from the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

PREVIEW_BYTES = 256 * 1024   # read at most this much for a preview
HEX_BYTES = 4096             # a hex dump shows at most this much

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"


@dataclass(frozen=True)
class Preview:
    kind: str          # "json", "text", "hex" or "empty"
    text: str
    media_type: str    # best guess, "" when unknown
    truncated: bool


def hexdump(data: bytes, limit: int = HEX_BYTES) -> str:
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off:off + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk[:8]) + "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexpart:<48}  |{text}|")
    return "\n".join(lines)


def sniff(data: bytes, doc: object = None) -> str:
    """A media type from magic numbers or OCI JSON shapes."""
    if isinstance(doc, dict):
        mt = doc.get("mediaType")
        if isinstance(mt, str) and mt:
            return mt
        if "manifests" in doc:
            return MT_INDEX
        if "layers" in doc and "config" in doc:
            return MT_MANIFEST
        if "rootfs" in doc or "architecture" in doc:
            return MT_CONFIG
        return "application/json"
    if data.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        return "application/zstd"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "application/x-tar"
    return ""


def _looks_textual(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:  # a preview may cut a multi-byte character at its end
            text = data[:-3].decode("utf-8") if len(data) > 3 else None
        except UnicodeDecodeError:
            return None
    if text is None:
        return None
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t")
    return text if controls == 0 else None


def render(data: bytes, size: int) -> Preview:
    truncated = size > len(data)
    if not data:
        return Preview("empty", "", "", False)
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"[") and not truncated:
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        if doc is not None:
            return Preview("json", json.dumps(doc, indent=2, ensure_ascii=False), sniff(data, doc), False)
    text = _looks_textual(data)
    if text is not None:
        return Preview("text", text, sniff(data), truncated)
    return Preview("hex", hexdump(data), sniff(data), truncated or len(data) > HEX_BYTES)
