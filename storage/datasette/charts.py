"""Horizontal bar charts as inline SVG: no JavaScript, no CDN, readable in any browser and in print."""

from __future__ import annotations

from html import escape

Number = int | float

_ROW = 26
_LABEL_WIDTH = 150
_BAR_WIDTH = 420


def bar_chart(
    title: str, rows: list[tuple[str, Number | None]], *, unit: str = "", maximum: Number | None = None
) -> str:
    """One bar per (label, value); a None value is drawn as 'no data' rather than as zero."""
    top = max([v for _, v in rows if v is not None] or [0])
    scale_max = maximum if maximum is not None else top
    height = _ROW * len(rows) + 10
    parts = [
        f'<figure class="xxgk-chart"><figcaption>{escape(title)}</figcaption>',
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'width="{_LABEL_WIDTH + _BAR_WIDTH + 90}" height="{height}">',
    ]
    for i, (label, value) in enumerate(rows):
        y = i * _ROW + 5
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="13">{escape(str(label))}</text>'
        )
        if value is None:
            parts.append(
                f'<text x="{_LABEL_WIDTH + 4}" y="{y + 15}" font-size="12" fill="#888">无数据 / no data</text>'
            )
            continue
        width = 0 if not scale_max else round(_BAR_WIDTH * value / scale_max, 1)
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
        parts.append(
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{width}" height="{_ROW - 8}" fill="#3a6ea5"><title>{escape(str(label))}: {shown}{escape(unit)}</title></rect>'
        )
        parts.append(f'<text x="{_LABEL_WIDTH + width + 5}" y="{y + 15}" font-size="12">{shown}{escape(unit)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)
