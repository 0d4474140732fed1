"""QR codes as inline SVG (coupons at the till, invite and marketer links)."""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup


@lru_cache(maxsize=1024)
def qr_svg(data: str, *, svgclass: str, title: str | None = None) -> Markup:
    """No style attributes (the CSP forbids them), a viewBox and no fixed size,
    so the drawing scales with the box the CSS gives it. A pure function of its
    arguments, so each process keeps the last 1024 drawings (a few KB each): the
    same link's code is not rebuilt on every /invite (4 ms)."""
    svg = segno.make(data, error="m").svg_inline(scale=6, border=2, title=title or data, svgclass=svgclass,
                                                 lineclass=None, dark="#111", omitsize=True)
    return Markup(svg)  # noqa: S704  segno's own markup of our own data
