"""The console's server-side SVG charts (zwadmin/charts.py): labelled, valid, and honest about missing data."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from zwadmin.charts import Labels, daily_chart, nice_ticks, x_label_step

SVG = "{http://www.w3.org/2000/svg}"
FIRST = datetime.date(2026, 10, 30)
LAST = datetime.date(2026, 11, 28)
LABELS = Labels(
    title="Reports per day",
    x_axis="date",
    y_axis="reports",
    tooltip="%(day)s: %(value)s reports",
    empty="No reports in the last 30 days",
    summary="latest (%(day)s): %(latest)s · highest: %(highest)s",
)


def chart(kind="bar", values=(), labels=LABELS, **kwargs):
    svg = daily_chart(
        kind=kind, values=list(values), first_day=FIRST, last_day=LAST, labels=labels, chart_id="c", **kwargs
    )
    return svg, ET.fromstring(svg)


def texts(root, css_class=None):
    return [
        element.text
        for element in root.iter(f"{SVG}text")
        if css_class is None or css_class in (element.get("class") or "").split()
    ]


def tooltips(root, tag):
    return [element.find(f"{SVG}title").text for element in root.iter(f"{SVG}{tag}")]


def test_nice_ticks_start_at_zero_and_cover_the_highest_value():
    assert nice_ticks(48) == [0, 20, 40, 60]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(120_000)[-1] >= 120_000


def test_x_labels_are_at_most_eight():
    assert x_label_step(7) == 1
    assert x_label_step(30) == 7
    assert x_label_step(90) == 14


def test_a_bar_chart_is_titled_and_labels_its_axes_dates_and_values():
    svg, root = chart(values=[(LAST, 28), (LAST - datetime.timedelta(days=3), 48)])

    assert root.find(f"{SVG}title").text == "Reports per day"
    assert "2026-10-30 – 2026-11-28" in root.find(f"{SVG}desc").text
    assert texts(root, "zw-chart-axis") == ["reports", "date"]
    assert texts(root, "zw-chart-ytick") == ["0", "20", "40", "60"]
    x_labels = texts(root, "zw-chart-xtick")
    assert x_labels[0] == "11-28" and "11-21" in x_labels and len(x_labels) <= 8
    assert "latest (2026-11-28): 28 · highest: 48" in texts(root, "zw-chart-summary")[0]
    assert sorted(tooltips(root, "rect")) == ["2026-11-25: 48 reports", "2026-11-28: 28 reports"]


def test_a_line_chart_leaves_a_gap_where_days_have_no_value():
    days = [FIRST + datetime.timedelta(days=i) for i in (0, 1, 2, 10, 11)]
    _, root = chart(kind="line", values=[(day, 100 + i) for i, day in enumerate(days)])

    assert len(list(root.iter(f"{SVG}polyline"))) == 2  # days 0-2 and 10-11, not one line across the gap
    assert tooltips(root, "circle") == [
        "2026-10-30: 100 reports",
        "2026-10-31: 101 reports",
        "2026-11-01: 102 reports",
        "2026-11-09: 103 reports",
        "2026-11-10: 104 reports",
    ]


def test_large_values_are_grouped_as_the_language_groups_them():
    with translation.override("en"):
        _, root = chart(values=[(LAST, 1_234_567)])
    assert tooltips(root, "rect") == ["2026-11-28: 1,234,567 reports"]

    with translation.override("zh-hans"):  # the console groups thousands in Chinese too (zwadmin/formats)
        _, root = chart(values=[(LAST, 1_234_567)])
    assert tooltips(root, "rect") == ["2026-11-28: 1,234,567 reports"]


def test_values_outside_the_period_are_left_out():
    _, root = chart(values=[(FIRST - datetime.timedelta(days=1), 5), (LAST + datetime.timedelta(days=1), 5)])

    assert not list(root.iter(f"{SVG}rect"))


@pytest.mark.parametrize("kind", ["bar", "line"])
def test_with_no_data_the_chart_says_so(kind):
    _, root = chart(kind=kind)

    assert texts(root, "zw-chart-empty") == ["No reports in the last 30 days"]
    assert root.find(f"{SVG}title").text == "Reports per day"
    assert not list(root.iter(f"{SVG}rect")) and not list(root.iter(f"{SVG}circle"))


def test_text_is_escaped():
    labels = Labels(title="<script>alert(1)</script>", x_axis="a&b", y_axis="y", tooltip="%(value)s", empty="none")
    svg, root = chart(values=[(LAST, 1)], labels=labels)

    assert "<script>" not in svg
    assert root.find(f"{SVG}title").text == "<script>alert(1)</script>"


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        chart(kind="pie")


@pytest.mark.parametrize(("kind", "tag"), [("bar", "rect"), ("line", "circle")])
def test_a_day_not_over_yet_is_drawn_hollow_and_says_so(kind, tag):
    with translation.override("en"):
        _, root = chart(kind=kind, values=[(LAST - datetime.timedelta(days=1), 40), (LAST, 12)], partial_day=LAST)

    marks = list(root.iter(f"{SVG}{tag}"))
    assert [mark.get("class") for mark in marks] == [None, "zw-chart-partial"]
    assert marks[1].get("fill") in ("none", "white")  # hollow: not a collapse, a day under way
    assert tooltips(root, tag)[1] == "2026-11-28: 12 reports (so far today)"
    assert "11-28 is not over yet (hollow)" in texts(root, "zw-chart-summary")[0]


def test_the_summary_says_what_it_shows():
    labels = Labels(**{**LABELS.__dict__, "summary": "highest of %(day)s: %(latest)s · highest: %(highest)s"})
    with translation.override("en"):
        _, root = chart(kind="line", values=[(LAST - datetime.timedelta(days=1), 229), (LAST, 228)], labels=labels)

    assert "highest of 2026-11-28: 228 · highest: 229" in texts(root, "zw-chart-summary")[0]
