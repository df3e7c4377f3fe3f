"""Draw the two Teams app icons with the standard library only (zlib + struct PNG writer).

Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white on a transparent
background. Drawing them from code keeps them reproducible and reviewable (a speech bubble with a
tick: "a chat that tells you whether it is OK"), and needs no image library. The PNGs are committed;
run this again only to change the design:

    .venv/bin/python manifest/teams/make_icons.py
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCENT = (0x1F, 0x5F, 0x8B)  # the manifest's accentColor, #1F5F8B
WHITE = (255, 255, 255)

Shape = Callable[[float, float], bool]  # (x, y) in 0..1 unit square -> inside?


def _rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        cx = min(max(x, x0 + r), x1 - r)
        cy = min(max(y, y0 + r), y1 - r)
        return x0 <= x <= x1 and y0 <= y <= y1 and (x - cx) ** 2 + (y - cy) ** 2 <= r * r

    return inside


def _triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    def sign(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (p[0] - r[0]) * (q[1] - r[1]) - (q[0] - r[0]) * (p[1] - r[1])

    def inside(x: float, y: float) -> bool:
        p = (x, y)
        d1, d2, d3 = sign(p, a, b), sign(p, b, c), sign(p, c, a)
        has_neg = d1 < 0 or d2 < 0 or d3 < 0
        has_pos = d1 > 0 or d2 > 0 or d3 > 0
        return not (has_neg and has_pos)

    return inside


def _segment(a: tuple[float, float], b: tuple[float, float], width: float) -> Shape:
    ax, ay = a
    bx, by = b
    length2 = (bx - ax) ** 2 + (by - ay) ** 2

    def inside(x: float, y: float) -> bool:
        t = max(0.0, min(1.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / length2))
        px, py = ax + t * (bx - ax), ay + t * (by - ay)
        return math.hypot(x - px, y - py) <= width / 2

    return inside


def _union(*shapes: Shape) -> Shape:
    return lambda x, y: any(s(x, y) for s in shapes)


def _minus(shape: Shape, hole: Shape) -> Shape:
    return lambda x, y: shape(x, y) and not hole(x, y)


BUBBLE = _union(_rounded_rect(0.16, 0.18, 0.84, 0.70, 0.12), _triangle((0.28, 0.66), (0.46, 0.66), (0.26, 0.86)))
BUBBLE_INNER = _union(_rounded_rect(0.25, 0.27, 0.75, 0.61, 0.06), _triangle((0.34, 0.60), (0.40, 0.60), (0.33, 0.68)))
TICK = _union(_segment((0.34, 0.45), (0.45, 0.55), 0.085), _segment((0.45, 0.55), (0.67, 0.33), 0.085))


def _coverage(shape: Shape, size: int, px: int, py: int, samples: int = 4) -> float:
    hits = 0
    for sy in range(samples):
        for sx in range(samples):
            if shape((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size):
                hits += 1
    return hits / (samples * samples)


def colour_icon(size: int = 192) -> list[list[tuple[int, int, int]]]:
    """White bubble with an accent-coloured tick, on the accent colour (no transparency)."""
    bubble = _minus(BUBBLE, TICK)
    rows: list[list[tuple[int, int, int]]] = []
    for y in range(size):
        row: list[tuple[int, int, int]] = []
        for x in range(size):
            c = _coverage(bubble, size, x, y)
            r, g, b = (round(a * (1 - c) + w * c) for a, w in zip(ACCENT, WHITE, strict=True))
            row.append((r, g, b))
        rows.append(row)
    return rows


def outline_icon(size: int = 32) -> list[list[tuple[int, int, int, int]]]:
    """White bubble outline and tick on a fully transparent background."""
    shape = _union(_minus(BUBBLE, BUBBLE_INNER), TICK)
    return [
        [(255, 255, 255, round(255 * _coverage(shape, size, x, y, samples=8))) for x in range(size)]
        for y in range(size)
    ]


def png_bytes(rows: list[list[tuple[int, ...]]]) -> bytes:
    """Encode 8-bit RGB (3-tuples) or RGBA (4-tuples) rows as a PNG."""
    height, width, channels = len(rows), len(rows[0]), len(rows[0][0])
    colour_type = {3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main() -> None:
    (HERE / "color.png").write_bytes(png_bytes(colour_icon()))  # type: ignore[arg-type]
    (HERE / "outline.png").write_bytes(png_bytes(outline_icon()))  # type: ignore[arg-type]
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
