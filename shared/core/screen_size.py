"""The screen-size classes of a visit: the tracker's window width (`w`, CSS pixels) as
mobile, tablet, laptop or desktop.

The same limits as Plausible's, so reports compare: below 576 px a phone, below 992 px
a tablet, below 1440 px a laptop, above that a desktop. Only the class is stored, never
the width (a width is one more fingerprinting bit than the class needs).
"""

from __future__ import annotations

SCREEN_SIZES = ("mobile", "tablet", "laptop", "desktop")
_LIMITS = ((576, "mobile"), (992, "tablet"), (1440, "laptop"))
MAX_WIDTH = 100_000      # wider than any screen: a sender that means something else


def screen_size(width: int | None) -> str:
    """The class of a window `width` in CSS pixels; "" when the width is unknown."""
    if width is None or width <= 0:
        return ""
    for limit, name in _LIMITS:
        if width < limit:
            return name
    return "desktop"
