"""Notify stage: the visitors chart of an e-mail report, drawn as a PNG.

Pillow draws it in-process: no browser, no network, no font download (Pillow ships its
own font). Drawn at twice the size it is shown at, so it stays sharp on dense screens.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 400          # shown at 600 x 200
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 90, 30, 30, 60
BAR = (79, 70, 229)                # the dashboard's indigo
GRID = (229, 231, 235)
TEXT = (75, 85, 99)


def _nice_max(value: int) -> int:
    """A round axis top at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 4:
        return 4
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step * 4 >= value:
                return m * step * 4
        step *= 10


def visitors_chart(days: Sequence[date], visitors: Sequence[int]) -> bytes:
    """A bar chart of visitors per day, as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    top = _nice_max(max(visitors, default=0))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base = MARGIN_TOP + plot_h
    for i in range(5):                                   # grid lines and their values
        y = base - plot_h * i / 4
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=GRID, width=2)
        draw.text((MARGIN_LEFT - 12, y), f"{top * i // 4:,}", fill=TEXT, font=font,
                  anchor="rm")
    n = max(len(visitors), 1)
    slot = plot_w / n
    for i, value in enumerate(visitors):
        x0 = MARGIN_LEFT + i * slot + slot * 0.15
        x1 = MARGIN_LEFT + (i + 1) * slot - slot * 0.15
        height = plot_h * value / top
        if height > 0:
            draw.rectangle([(x0, base - height), (x1, base)], fill=BAR)
    for i in _label_positions(len(days)):
        x = MARGIN_LEFT + (i + 0.5) * slot
        draw.text((x, base + 14), f"{days[i]:%-d %b}", fill=TEXT, font=font, anchor="ma")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _label_positions(count: int) -> list[int]:
    """Every day of a week; about six evenly spread days of a month."""
    if count <= 8:
        return list(range(count))
    step = -(-count // 6)
    return list(range(0, count, step))
