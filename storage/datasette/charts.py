"""Charts as inline SVG: no JavaScript, no CDN, readable in any browser and in print. A bar may link to the rows
behind it (an <a> around the bar and its label)."""

from __future__ import annotations

from html import escape

Number = int | float

_ROW = 26
_LABEL_WIDTH = 150
_BAR_WIDTH = 420
# Outcome colours, one per deadline verdict (the pages use the same ones).
COLOURS = {"on_time": "#3a8a4f", "late": "#d98c1f", "missing": "#c0392b", "unverified": "#8a8a8a"}
_SERIES = ("#3a6ea5", "#3a8a4f", "#d98c1f", "#c0392b", "#7b4fa0", "#2a9d8f")


def _shown(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def bar_chart(
    title: str,
    rows: list[tuple[str, Number | None]],
    *,
    unit: str = "",
    maximum: Number | None = None,
    links: list[str] | None = None,
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
        if links:
            parts.append(f'<a href="{escape(links[i])}">')
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="13">{escape(str(label))}</text>'
        )
        if value is None:
            parts.append(f'<text x="{_LABEL_WIDTH + 4}" y="{y + 15}" font-size="12" fill="#888">无数据</text>')
        else:
            width = 0 if not scale_max else round(_BAR_WIDTH * value / scale_max, 1)
            parts.append(
                f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{width}" height="{_ROW - 8}" fill="#3a6ea5">'
                f"<title>{escape(str(label))}: {_shown(value)}{escape(unit)}</title></rect>"
            )
            parts.append(
                f'<text x="{_LABEL_WIDTH + width + 5}" y="{y + 15}" font-size="12">{_shown(value)}{escape(unit)}</text>'
            )
        if links:
            parts.append("</a>")
    parts.append("</svg></figure>")
    return "".join(parts)


def share_chart(title: str, rows: list[tuple[str, dict[str, int]]], names: dict[str, str], links: list[str]) -> str:
    """One stacked bar per row: the share of each outcome (按时/逾期/未公开/未能核实), each bar a link."""
    height = _ROW * len(rows) + 34
    parts = [
        f'<figure class="xxgk-chart"><figcaption>{escape(title)}</figcaption>',
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'width="{_LABEL_WIDTH + _BAR_WIDTH + 90}" height="{height}">',
    ]
    for i, (label, counts) in enumerate(rows):
        y = i * _ROW + 5
        total = sum(counts.get(k, 0) for k in COLOURS)
        parts.append(f'<a href="{escape(links[i])}">')
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="13">{escape(str(label))}</text>'
        )
        x = float(_LABEL_WIDTH)
        for key, colour in COLOURS.items():
            n = counts.get(key, 0)
            if not total or not n:
                continue
            width = round(_BAR_WIDTH * n / total, 1)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{width}" height="{_ROW - 8}" fill="{colour}">'
                f"<title>{escape(str(label))} {escape(names[key])}: {n}（{100 * n / total:.1f}%）</title></rect>"
            )
            x += width
        parts.append(f'<text x="{_LABEL_WIDTH + _BAR_WIDTH + 5}" y="{y + 15}" font-size="12">{total}</text></a>')
    y = len(rows) * _ROW + 14
    x = _LABEL_WIDTH
    for key, colour in COLOURS.items():
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 11}" font-size="12">{escape(names[key])}</text>')
        x += 90
    parts.append("</svg></figure>")
    return "".join(parts)


def line_chart(title: str, xs: list[str], series: list[tuple[str, list[Number | None]]]) -> str:
    """Lines over the years (a gap where a year has no figure), with the value at each point."""
    width, height, left, top, bottom = 640, 260, 50, 20, 40
    values = [v for _, vs in series for v in vs if v is not None]
    peak = max(values or [1]) or 1
    step = (width - left - 20) / max(len(xs) - 1, 1)

    def pos(i: int, v: Number) -> tuple[float, float]:
        return left + i * step, top + (height - top - bottom) * (1 - v / peak)

    parts = [
        f'<figure class="xxgk-chart"><figcaption>{escape(title)}</figcaption>',
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" width="{width + 140}" height="{height}">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>',
    ]
    for i, x in enumerate(xs):
        parts.append(f'<text x="{left + i * step}" y="{height - bottom + 18}" text-anchor="middle" font-size="12">{escape(x)}</text>')
    for n, (name, vs) in enumerate(series):
        colour = _SERIES[n % len(_SERIES)]
        points = [pos(i, v) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(vs):
            if v is not None:
                x, y = pos(i, v)
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)} {escape(xs[i])}: {_shown(v)}</title></circle>')
        parts.append(f'<rect x="{width + 10}" y="{top + n * 20}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{width + 26}" y="{top + n * 20 + 11}" font-size="12">{escape(name)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)
