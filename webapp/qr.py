"""QR codes as inline SVG (coupons at the till, invite and marketer links)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(data: str, *, svgclass: str, title: str | None = None) -> Markup:
    """No style attributes (the CSP forbids them), a viewBox and no fixed size,
    so the drawing scales with the box the CSS gives it."""
    svg = segno.make(data, error="m").svg_inline(scale=6, border=2, title=title or data, svgclass=svgclass,
                                                 lineclass=None, dark="#111", omitsize=True)
    return Markup(svg)  # noqa: S704  segno's own markup of our own data
