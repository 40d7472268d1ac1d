"""Product art for the demo catalog: an SVG drawn from the product's demo row, served by the
app itself (`/media/demo/<slug>/<view>.svg`), so the demo shop shows its pictures offline.

Deterministic: the same product and view give the same bytes (no clock, no randomness); the
picture says what the product is: its colour, a silhouette of its department, its name and
brand. Only the demo table is read, never the database, so a request costs the same however
many products the shop holds.
"""

from __future__ import annotations

import hashlib
from functools import cache
from xml.sax.saxutils import escape

from app.catalog.demo import CATEGORIES, PRODUCTS, VARIANT_PRODUCTS
from app.catalog.slugs import slugify

VIEWS = (1, 2)  # 1: the product; 2: a detail view

COLOURS = {
    "beige": "#d8c3a5",
    "black": "#2b2b2b",
    "blue": "#2f6fb5",
    "brown": "#7a5230",
    "green": "#3f7d4e",
    "grey": "#8a8f98",
    "navy": "#1f3357",
    "red": "#b8372f",
    "silver": "#b9bec6",
    "white": "#f4f4f0",
}
LIGHT = {"beige", "white", "silver"}

# One silhouette per top-level department, drawn in a 200x200 box (paths in SVG syntax).
SHAPES = {
    "apparel": "M60 40 L85 30 Q100 45 115 30 L140 40 L170 75 L148 92 L138 82 L138 170 "
    "L62 170 L62 82 L52 92 L30 75 Z",
    "footwear": "M25 120 Q30 80 60 85 L95 95 Q110 70 130 92 L170 112 Q182 122 176 138 "
    "L30 140 Q22 132 25 120 Z",
    "electronics": "M45 110 Q45 45 100 45 Q155 45 155 110 L155 150 Q155 160 145 160 L130 160 "
    "L130 112 L145 112 Q142 62 100 62 Q58 62 55 112 L70 112 L70 160 L55 160 Q45 160 45 150 Z",
    "home-kitchen": "M40 90 L160 90 L152 160 Q150 170 140 170 L60 170 Q50 170 48 160 Z "
    "M160 100 L190 92 L190 102 L158 112 Z M70 70 Q100 55 130 70 L130 82 L70 82 Z",
    "outdoors": "M20 165 L100 35 L180 165 Z M100 35 L100 165",
    "bags": "M55 70 Q55 40 100 40 Q145 40 145 70 L160 70 Q168 70 168 80 L168 165 Q168 175 "
    "158 175 L42 175 Q32 175 32 165 L32 80 Q32 70 42 70 Z M72 70 Q72 55 100 55 Q128 55 128 70",
}


@cache
def _demo_rows() -> dict[str, dict[str, str]]:
    top_of = {child: top for top, _name, _desc, children in CATEGORIES for child, _ in children}
    top_of.update({top: top for top, *_ in CATEGORIES})
    return {
        slugify(row[1]): {
            "name": row[1],
            "brand": row[2],
            "color": row[5],
            "department": top_of[row[0]],
        }
        for row in PRODUCTS
    } | {
        # Products with variants: drawn in their first colour.
        slugify(row[1]): {
            "name": row[1],
            "brand": row[2],
            "color": row[8][0][1],
            "department": top_of[row[0]],
        }
        for row in VARIANT_PRODUCTS
    }


def demo_slugs() -> list[str]:
    return list(_demo_rows())


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:3]


@cache
def render(slug: str, view: int) -> bytes | None:
    """The SVG for one demo product and view, or None when there is no such demo product."""
    row = _demo_rows().get(slug)
    if row is None or view not in VIEWS:
        return None
    colour = COLOURS.get(row["color"], "#777777")
    ink = "#1d1d1f" if row["color"] in LIGHT else "#ffffff"
    # A pale backdrop whose hue varies by product, so neighbouring cards look different.
    hue = int(hashlib.sha256(slug.encode()).hexdigest()[:4], 16) % 360
    backdrop = f"hsl({hue}, 35%, {92 if view == 1 else 86}%)"
    shape = SHAPES[row["department"]]
    # The detail view zooms into the product's upper half.
    transform = "translate(180 60) scale(2.2)" if view == 1 else "translate(60 -60) scale(3.4)"
    name_lines = _wrap(row["name"], 22)
    text = "".join(
        f'<text x="400" y="{640 + 52 * i}" font-size="44" font-weight="700" '
        f'text-anchor="middle" fill="#1d1d1f">{escape(line)}</text>'
        for i, line in enumerate(name_lines)
    )
    title = f"{row['name']} by {row['brand']}" + (", detail" if view == 2 else "")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 800" width="800" '
        f'height="800" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">'
        f"<title>{escape(title)}</title>"
        f'<rect width="800" height="800" fill="{backdrop}"/>'
        '<g font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f'<g transform="{transform}"><path d="{shape}" fill="{colour}" stroke="{ink}" '
        'stroke-width="3" stroke-linejoin="round" fill-rule="evenodd"/></g>'
        f'<rect x="0" y="{590 if view == 1 else 600}" width="800" height="210" '
        'fill="#ffffff" fill-opacity="0.82"/>'
        f"{text if view == 1 else ''}"
        f'<text x="400" y="{770 if view == 1 else 712}" font-size="30" text-anchor="middle" '
        f'fill="#3a3a3c">{escape(row["brand"])}'
        f"{' · detail' if view == 2 else ''}</text>"
        "</g></svg>"
    )
    return svg.encode()
