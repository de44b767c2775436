#!/usr/bin/env python3
"""Draws PostFlow's icons (app icon, tray icons) into icons/ with the standard
library only, so a fresh machine needs no image tools. Run it again after
changing the drawing; the PNGs are committed."""
import math, os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "icons")


def png(width, height, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * width * 4:(y + 1) * width * 4]) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def draw(size, colour, glyph):
    """A rounded square in `colour` with a white glyph: 'up' arrow, 'pause' bars."""
    px = [0] * (size * size * 4)
    r = size * 0.22
    for y in range(size):
        for x in range(size):
            cx, cy = x + 0.5, y + 0.5
            dx = max(r - cx, 0, cx - (size - r)); dy = max(r - cy, 0, cy - (size - r))
            cover = max(0.0, min(1.0, r - math.hypot(dx, dy) + 0.5)) if (dx or dy) else 1.0
            if cover <= 0:
                continue
            u, v = cx / size, cy / size
            white = False
            if glyph == "up":
                # Arrow: triangle head and a stem, pointing up (an upload).
                if 0.22 <= v <= 0.52 and abs(u - 0.5) <= (v - 0.22) * 0.95:
                    white = True
                if 0.5 <= v <= 0.8 and abs(u - 0.5) <= 0.1:
                    white = True
            elif glyph == "pause":
                if 0.25 <= v <= 0.75 and (0.3 <= u <= 0.44 or 0.56 <= u <= 0.7):
                    white = True
            rgb = (255, 255, 255) if white else colour
            i = (y * size + x) * 4
            px[i:i + 4] = [rgb[0], rgb[1], rgb[2], int(255 * cover)]
    return png(size, size, px)


def ico(png_bytes, size):
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png_bytes), 6 + 16)
    return header + entry + png_bytes


BLUE, GREY = (37, 99, 235), (100, 116, 139)
os.makedirs(OUT, exist_ok=True)
files = {
    "32x32.png": draw(32, BLUE, "up"),
    "128x128.png": draw(128, BLUE, "up"),
    "128x128@2x.png": draw(256, BLUE, "up"),
    "icon.png": draw(512, BLUE, "up"),
    "tray.png": draw(32, BLUE, "up"),
    "tray-paused.png": draw(32, GREY, "pause"),
}
files["icon.ico"] = ico(draw(256, BLUE, "up"), 256)
for name, data in files.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote", ", ".join(sorted(files)))
