"""Turn the first bytes of a blob into something a person can read (no Qt, no disk).

JSON (manifests, indexes, configs) is pretty-printed, UTF-8 text is shown as is,
anything else as a hex dump.  The media type is the store's own recognition
(``store.oci.sniff``), passed in by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

PREVIEW_BYTES = 256 * 1024   # read at most this much for a preview
HEX_BYTES = 4096             # a hex dump shows at most this much

@dataclass(frozen=True)
class Preview:
    kind: str          # "json", "text", "hex" or "empty"
    text: str
    media_type: str    # from store.oci, "" when unknown
    truncated: bool


def hexdump(data: bytes, limit: int = HEX_BYTES) -> str:
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off:off + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk[:8]) + "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexpart:<48}  |{text}|")
    return "\n".join(lines)


def _looks_textual(data: bytes) -> str | None:
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        try:  # a preview may cut a multi-byte character at its end
            text = data[:-3].decode("utf-8") if len(data) > 3 else None
        except UnicodeDecodeError:
            return None
    if text is None:
        return None
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t")
    return text if controls == 0 else None


def render(data: bytes, size: int, media_type: str = "") -> Preview:
    truncated = size > len(data)
    if not data:
        return Preview("empty", "", media_type, False)
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"[") and not truncated:
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        if doc is not None:
            return Preview("json", json.dumps(doc, indent=2, ensure_ascii=False), media_type, False)
    text = _looks_textual(data)
    if text is not None:
        return Preview("text", text, media_type, truncated)
    return Preview("hex", hexdump(data), media_type, truncated or len(data) > HEX_BYTES)
