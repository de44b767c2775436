#!/usr/bin/env python3
"""Draws PostFlow's icons (app icon, tray icons) into icons/ with the standard
library only, so a fresh machine needs no image tools. Run it again after
changing the drawing; the PNGs are committed.

Tray icons, one per state the tray shows (crates/api/src/tray.rs), each in
colour and in two monochrome variants that follow the panel: `-light` (a dark
glyph for light panels) and `-dark` (a light glyph for dark panels; also the
macOS template image, whose colour the system replaces). The state is in the
glyph's shape, never in the colour alone:
  idle        a check mark           uploading-0..3  an arrow over a bar that fills
  paused      two bars               attention       an exclamation mark
  needs-you   a person               offline         a crossed-out cloud
"""
import math, os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "icons")


def png(width, height, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * width * 4:(y + 1) * width * 4]) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy or 1)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def glyph_at(glyph, u, v, frame=0):
    """Whether (u, v) in [0, 1]² is inside the glyph (stroke width ~0.11)."""
    w = 0.075
    if glyph == "up":  # the app icon's arrow
        return (0.22 <= v <= 0.52 and abs(u - 0.5) <= (v - 0.22) * 0.95) or (0.5 <= v <= 0.8 and abs(u - 0.5) <= 0.1)
    if glyph == "check":
        return seg_dist(u, v, 0.24, 0.52, 0.42, 0.70) <= w or seg_dist(u, v, 0.42, 0.70, 0.76, 0.32) <= w
    if glyph == "pause":
        return 0.25 <= v <= 0.75 and (0.3 <= u <= 0.44 or 0.56 <= u <= 0.7)
    if glyph == "uploading":
        arrow = (0.16 <= v <= 0.42 and abs(u - 0.5) <= (v - 0.16) * 0.9) or (0.40 <= v <= 0.60 and abs(u - 0.5) <= 0.08)
        # The bar: an outline, filled a quarter more at each frame.
        inside_bar = 0.68 <= v <= 0.84 and 0.18 <= u <= 0.82
        outline = inside_bar and not (0.715 <= v <= 0.795 and 0.225 <= u <= 0.775)
        filled = inside_bar and u <= 0.18 + 0.64 * (frame + 1) / 4
        return arrow or outline or filled
    if glyph == "attention":
        return (0.2 <= v <= 0.6 and abs(u - 0.5) <= 0.075) or math.hypot(u - 0.5, v - 0.76) <= 0.085
    if glyph == "person":
        head = math.hypot(u - 0.5, v - 0.34) <= 0.14
        body = v >= 0.58 and v <= 0.82 and abs(u - 0.5) <= 0.26 * math.sqrt(max(0.0, (v - 0.5) / 0.32))
        return head or body
    if glyph == "offline":
        cloud = (math.hypot(u - 0.38, v - 0.56) <= 0.17 or math.hypot(u - 0.6, v - 0.5) <= 0.2
                 or (0.38 <= u <= 0.72 and 0.56 <= v <= 0.7))
        cross = seg_dist(u, v, 0.2, 0.24, 0.82, 0.82) <= 0.05
        gap = seg_dist(u, v, 0.2, 0.24, 0.82, 0.82) <= 0.1 and not cross
        return (cloud and not gap) or cross
    raise ValueError(glyph)


def draw(size, colour, glyph, frame=0, mono=None):
    """A rounded square in `colour` with a white glyph; with `mono` (an RGB),
    the glyph alone in that colour on transparency (monochrome variants)."""
    px = [0] * (size * size * 4)
    r = size * 0.22
    ss = 3  # supersampling for smooth edges
    for y in range(size):
        for x in range(size):
            cx, cy = x + 0.5, y + 0.5
            dx = max(r - cx, 0, cx - (size - r)); dy = max(r - cy, 0, cy - (size - r))
            square = max(0.0, min(1.0, r - math.hypot(dx, dy) + 0.5)) if (dx or dy) else 1.0
            hits = sum(glyph_at(glyph, (x + (i + 0.5) / ss) / size, (y + (j + 0.5) / ss) / size, frame)
                       for i in range(ss) for j in range(ss)) / (ss * ss)
            i = (y * size + x) * 4
            if mono is not None:
                if hits > 0:
                    px[i:i + 4] = [mono[0], mono[1], mono[2], int(255 * hits)]
                continue
            if square <= 0:
                continue
            rgb = tuple(int(c * (1 - hits) + 255 * hits) for c in colour)
            px[i:i + 4] = [rgb[0], rgb[1], rgb[2], int(255 * square)]
    return png(size, size, px)


def ico(png_bytes, size):
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png_bytes), 6 + 16)
    return header + entry + png_bytes


BLUE, GREY, GREEN, ORANGE, RED = (37, 99, 235), (100, 116, 139), (22, 128, 61), (194, 97, 0), (185, 28, 28)
DARK_GLYPH, LIGHT_GLYPH = (30, 34, 40), (236, 239, 243)
STATES = {
    "idle": (GREEN, "check", 0),
    "uploading-0": (BLUE, "uploading", 0),
    "uploading-1": (BLUE, "uploading", 1),
    "uploading-2": (BLUE, "uploading", 2),
    "uploading-3": (BLUE, "uploading", 3),
    "paused": (GREY, "pause", 0),
    "attention": (ORANGE, "attention", 0),
    "needs-you": (RED, "person", 0),
    "offline": (GREY, "offline", 0),
}
os.makedirs(OUT, exist_ok=True)
files = {
    "32x32.png": draw(32, BLUE, "up"),
    "128x128.png": draw(128, BLUE, "up"),
    "128x128@2x.png": draw(256, BLUE, "up"),
    "icon.png": draw(512, BLUE, "up"),
}
files["icon.ico"] = ico(draw(256, BLUE, "up"), 256)
for name, (colour, glyph, frame) in STATES.items():
    files[f"tray-{name}.png"] = draw(32, colour, glyph, frame)
    files[f"tray-{name}-light.png"] = draw(32, colour, glyph, frame, mono=DARK_GLYPH)
    files[f"tray-{name}-dark.png"] = draw(32, colour, glyph, frame, mono=LIGHT_GLYPH)
for name, data in files.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
stale = os.path.join(OUT, "tray.png")
if os.path.exists(stale):
    os.remove(stale)
print("wrote", ", ".join(sorted(files)))
