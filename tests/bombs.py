"""Hostile image files, built in memory for the tests: a JPEG scan bomb and an ICO whose
frame is far larger than it declares (issue 12, items 3 and 12)."""

import io
import re
import struct

from PIL import Image

_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # what ends a scan's entropy-coded data


def scan_bounds(data):
    """(start of the SOS marker, end of the entropy-coded data) of each scan of JPEG ``data``."""
    bounds, i = [], 2
    while data[i + 1] != 0xD9:
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if data[i + 1] == 0xDA:
            end = _NEXT_MARKER.search(data, i + 2 + length).start()
            bounds.append((i, end))
            i = end
        else:
            i += 2 + length
    return bounds


def scan_bomb(size, extra_scans):
    """A real progressive JPEG of a flat ``size`` x ``size`` grey image whose second scan
    (an AC first pass, with the Huffman table written before it) is repeated ``extra_scans``
    more times: a few bytes per scan, each costing a pass over every coefficient.

    Libjpeg's grey progression has 6 scans, so the file has ``6 + extra_scans``. At 8000 px
    and 5000 extra scans it is 0.8 MB and takes ~30 s of CPU to decode (even at 1/8 scale).
    """
    buf = io.BytesIO()
    Image.new("L", (size, size), 128).save(buf, "JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    (_, first_end), (_, second_end) = scan_bounds(data)[:2]
    block = data[first_end:second_end]
    return data[:second_end] + block * extra_scans + data[second_end:]


def ico_with_png_frame(width, height):
    """An ICO whose one directory entry (declared 256x256) holds a ``width`` x ``height`` PNG:
    Pillow's ICO reader decodes that frame while opening, before any size check."""
    png = io.BytesIO()
    Image.new("RGBA", (width, height), (7, 8, 9, 255)).save(png, "PNG")
    png = png.getvalue()
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + png
