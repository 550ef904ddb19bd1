"""Small server-side SVG charts for the console: one value per day, as a line or as bars.

The console runs on networks without internet access, so no CDN and no JavaScript: the chart is an
inline ``<svg>`` the page carries itself. It is meant to be read, not admired: a title, the dates on
the x axis, the values on a zero-based y axis with grid lines, the axis names, and a tooltip
(``<title>``) on every point or bar with its exact date and value. Text takes the page's font and
colour (``currentColor``), so the admin's light and dark themes both work. A day still under way (today) is
drawn hollow and labelled as such, so that its small figure does not read as a collapse.
"""

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 720
HEIGHT = 250
MARGIN_TOP = 50
MARGIN_RIGHT = 16
MARGIN_BOTTOM = 46
FONT_SIZE = 12
CHAR_WIDTH = 7  # a generous average glyph width at FONT_SIZE, to size the y tick labels' margin
LINE_COLOUR = "#2f6f9f"
BAR_COLOUR = "#79aec8"
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Labels:
    """The words of a chart; ``tooltip`` and ``summary`` are %-formats (``%(day)s``, ``%(value)s``)."""

    title: str
    x_axis: str
    y_axis: str
    tooltip: str
    empty: str
    summary: str = ""


def number(value) -> str:
    return formats.number_format(value, decimal_pos=0 if isinstance(value, int) else None, force_grouping=True)


def nice_ticks(highest: float, count: int = 4) -> list[int]:
    """Zero-based y ticks on a 1-2-5 step, the last at or above ``highest``."""
    highest = max(highest, 1)
    raw = highest / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = step * math.ceil(highest / step)
    return list(range(0, top + 1, step))


def x_label_step(days: int) -> int:
    """Label every day, every other day, weekly, fortnightly or monthly: at most ``MAX_X_LABELS`` labels."""
    return next((step for step in (1, 2, 7, 14, 30) if math.ceil(days / step) <= MAX_X_LABELS), 30)


def _attrs(**attrs) -> str:
    return " ".join(f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"' for name, value in attrs.items())


def _text(x, y, content, **attrs) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" {_attrs(**attrs)}>{escape(content)}</text>'


def daily_chart(
    *,
    kind: str,
    values: Sequence[tuple[datetime.date, int]],
    first_day: datetime.date,
    last_day: datetime.date,
    labels: Labels,
    chart_id: str,
    width: int = WIDTH,
    partial_day: datetime.date | None = None,
) -> SafeString:
    """An SVG chart of one value per day from ``first_day`` to ``last_day``.

    ``kind`` is ``"line"`` (days without a value leave a gap in the line) or ``"bar"`` (days without a
    value have no bar). With no value at all, the chart says ``labels.empty`` instead. ``partial_day`` (today)
    is a day not over yet: its bar or point is hollow, its tooltip and the caption say so.
    """
    if kind not in ("line", "bar"):
        raise ValueError(f"unknown chart kind {kind!r}")
    days = (last_day - first_day).days + 1
    by_day = {day: value for day, value in values if first_day <= day <= last_day and value is not None}
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    period = f"{first_day:%Y-%m-%d} – {last_day:%Y-%m-%d}"
    summary = ""
    if by_day and labels.summary:
        latest_day = max(by_day)
        summary = str(labels.summary) % {
            "latest": number(by_day[latest_day]),
            "day": f"{latest_day:%Y-%m-%d}",
            "highest": number(max(by_day.values())),
        }
    partial = partial_day in by_day
    partial_note = _("%(day)s is not over yet (hollow)") % {"day": f"{partial_day:%m-%d}"} if partial else ""
    caption = " · ".join(part for part in (period, summary, partial_note) if part)
    description = f"{labels.title}, {caption}. {'' if by_day else labels.empty}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zw-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}" '
        f'style="max-width:100%;height:auto;font-size:{FONT_SIZE}px">',
        f'<title id="{title_id}">{escape(labels.title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        _text(0, 16, labels.title, fill="currentColor", font_weight="bold", font_size=FONT_SIZE + 2),
        _text(0, 34, caption, fill="currentColor", opacity="0.75", class_="zw-chart-summary"),
    ]
    if not by_day:
        parts.append(
            _text(
                width / 2,
                (MARGIN_TOP + HEIGHT - MARGIN_BOTTOM) / 2,
                labels.empty,
                fill="currentColor",
                text_anchor="middle",
                opacity="0.75",
                class_="zw-chart-empty",
            )
        )
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()

    ticks = nice_ticks(max(by_day.values()))
    tick_texts = [number(tick) for tick in ticks]
    left = 28 + CHAR_WIDTH * max(len(text) for text in tick_texts)
    plot_w = width - left - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bottom = MARGIN_TOP + plot_h
    band = plot_w / days

    def x_of(day: datetime.date) -> float:
        return left + ((day - first_day).days + 0.5) * band

    def y_of(value: float) -> float:
        return bottom - value / ticks[-1] * plot_h

    # The y axis: grid lines and tick labels; its name, turned, left of the labels.
    for tick, text in zip(ticks, tick_texts, strict=True):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" stroke="currentColor" '
            f'stroke-opacity="{0.6 if tick == 0 else 0.15}"/>'
        )
        parts.append(_text(left - 6, y + 4, text, fill="currentColor", text_anchor="end", class_="zw-chart-ytick"))
    y_mid = MARGIN_TOP + plot_h / 2
    parts.append(
        f'<text x="12" y="{y_mid:.1f}" transform="rotate(-90 12 {y_mid:.1f})" text-anchor="middle" '
        f'fill="currentColor" class="zw-chart-axis">{escape(labels.y_axis)}</text>'
    )

    # The x axis: the last day is always labelled, then every ``step`` days before it.
    step = x_label_step(days)
    for offset in range(0, days, step):
        day = last_day - datetime.timedelta(days=offset)
        x = x_of(day)
        parts.append(
            f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 4:.1f}" stroke="currentColor" '
            'stroke-opacity="0.6"/>'
        )
        parts.append(
            _text(x, bottom + 17, f"{day:%m-%d}", fill="currentColor", text_anchor="middle", class_="zw-chart-xtick")
        )
    parts.append(
        _text(
            left + plot_w / 2,
            HEIGHT - 6,
            labels.x_axis,
            fill="currentColor",
            text_anchor="middle",
            class_="zw-chart-axis",
        )
    )

    def tooltip(day, value):
        text = str(labels.tooltip) % {"day": f"{day:%Y-%m-%d}", "value": number(value)}
        if day == partial_day:
            text = _("%(figure)s (so far today)") % {"figure": text}
        return f"<title>{escape(text)}</title>"

    if kind == "bar":
        bar_width = max(band * 0.7, 1)
        for day in sorted(by_day):
            value = by_day[day]
            top = y_of(value)
            paint = (
                f'fill="none" stroke="{LINE_COLOUR}" stroke-dasharray="3 2" class="zw-chart-partial"'
                if day == partial_day
                else f'fill="{BAR_COLOUR}"'
            )
            parts.append(
                f'<rect x="{x_of(day) - bar_width / 2:.1f}" y="{top:.1f}" width="{bar_width:.1f}" '
                f'height="{max(bottom - top, 1):.1f}" {paint}>{tooltip(day, value)}</rect>'
            )
    else:
        # One polyline per run of consecutive days: a day without a report is a gap, not a slope.
        runs: list[list[datetime.date]] = []
        for day in sorted(by_day):
            if runs and (day - runs[-1][-1]).days == 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x_of(day):.1f},{y_of(by_day[day]):.1f}" for day in run)
                parts.append(f'<polyline points="{points}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>')
        for day in sorted(by_day):
            value = by_day[day]
            paint = (
                f'fill="white" stroke="{LINE_COLOUR}" stroke-width="2" class="zw-chart-partial"'
                if day == partial_day
                else f'fill="{LINE_COLOUR}"'
            )
            parts.append(
                f'<circle cx="{x_of(day):.1f}" cy="{y_of(value):.1f}" r="3.5" {paint}>{tooltip(day, value)}</circle>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()
