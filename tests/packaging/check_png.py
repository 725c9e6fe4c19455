"""Check that PNG files are real pictures of a window, not blank frames.

Usage: python3 check_png.py [--min-width W] [--min-height H] FILE.png...
Pure standard library (zlib), so it runs with any Python 3 outside the test chroot.
Exit status 0 when every file passes, 1 otherwise; one line per file either way.
"""

import argparse
import struct
import sys
import zlib
from collections import Counter

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


class NotAPicture(Exception):
    pass


def read_png(path):
    """Return (width, height, channels, rows) for an 8-bit, non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(PNG_SIGNATURE):
        raise NotAPicture("not a PNG file (bad signature)")
    pos, idat, ihdr = len(PNG_SIGNATURE), [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if ihdr is None or not idat:
        raise NotAPicture("truncated PNG (no IHDR or IDAT chunk)")
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or interlace or colour not in CHANNELS:
        raise NotAPicture(f"unsupported PNG layout (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = CHANNELS[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filt, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            elif filt != 0:
                raise NotAPicture(f"bad PNG filter type {filt} in row {y}")
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def check(path, min_width, min_height):
    width, height, channels, rows = read_png(path)
    if width < min_width or height < min_height:
        raise NotAPicture(f"{width}x{height} is smaller than a main window ({min_width}x{min_height})")
    colours = Counter()
    for row in rows:
        for x in range(0, len(row), channels):
            colours[row[x : x + channels]] += 1
    total = width * height
    dominant = colours.most_common(1)[0][1] / total
    # A window has text, a table grid and frames: many colours (antialiasing) and no colour
    # covering nearly everything. A blank or black frame fails both.
    if len(colours) < 16:
        raise NotAPicture(f"only {len(colours)} distinct colours: a blank frame, not a window")
    if dominant > 0.97:
        raise NotAPicture(f"one colour covers {dominant:.1%} of the picture: nearly blank")
    # Content must be spread over the picture, not a stray pixel cluster: most rows must vary.
    varied = sum(1 for row in rows if len(set(row[x : x + channels] for x in range(0, len(row), channels))) > 1)
    if varied < height * 0.5:
        raise NotAPicture(f"only {varied} of {height} rows have any detail")
    return f"{width}x{height}, {len(colours)} colours, most common {dominant:.1%}, {varied} varied rows"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-width", type=int, default=400)
    parser.add_argument("--min-height", type=int, default=300)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    ok = True
    for path in args.files:
        try:
            print(f"ok   {path}: {check(path, args.min_width, args.min_height)}")
        except (OSError, NotAPicture, zlib.error) as e:
            print(f"FAIL {path}: {e}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
