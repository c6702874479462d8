"""Geometry of the server-side SVG charts (admin chart, widget sparkline).

Pure functions: a daily series in, coordinates and labels out. Templates draw
them, so every number is escaped and no JavaScript or CDN is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracker.periods import DayCount

_UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def compact_number(value: int | float) -> str:
    """``1234`` -> ``"1.2K"``, ``1_500_000`` -> ``"1.5M"``; below 1000 as is.

    Truncated to one decimal, never rounded up, so a count is never shown
    above what it is (999_999 is "999.9K"), as tracker.js does.
    """
    sign = "-" if value < 0 else ""
    value = abs(value)
    for size, unit in _UNITS:
        if value >= size:
            tenths = math.floor(value * 10 / size)
            whole, decimal = divmod(tenths, 10)
            return f"{sign}{whole}{f'.{decimal}' if decimal else ''}{unit}"
    return f"{sign}{value:g}" if isinstance(value, float) else f"{sign}{value}"


def nice_scale(peak: int, steps: int = 4) -> tuple[int, int]:
    """A round top of the y axis at or above ``peak``, and its tick step."""
    if peak <= 0:
        return steps, 1
    raw = peak / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * magnitude
        if step >= raw and step == int(step):
            return int(step) * steps, int(step)
    step = math.ceil(raw)
    return step * steps, step


@dataclass
class Bar:
    """One day of the chart, with where to draw it."""

    day: object
    count: int
    uniques: int
    x: float
    y: float
    width: float
    height: float
    center: float


@dataclass
class BarChart:
    """Everything a template needs to draw a daily bar chart as SVG."""

    width: int
    height: int
    left: int
    top: int
    bottom: int
    right: int
    bars: list[Bar] = field(default_factory=list)
    uniques_points: str = ""
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    scale_top: int = 0
    total_count: int = 0
    total_uniques: int = 0
    peak: int = 0


def bar_chart(
    series: Sequence[DayCount],
    *,
    width: int = 820,
    height: int = 280,
    max_labels: int = 8,
) -> BarChart:
    """Bars for counts, a line for distinct visitors, one bar per day."""
    chart = BarChart(
        width, height, left=56, top=12, bottom=height - 28, right=width - 12
    )
    chart.total_count = sum(point.count for point in series)
    chart.total_uniques = sum(point.uniques for point in series)
    chart.peak = max((max(p.count, p.uniques) for p in series), default=0)
    chart.scale_top, step = nice_scale(chart.peak)
    plot_height = chart.bottom - chart.top
    slot = (chart.right - chart.left) / max(len(series), 1)
    gap = min(slot * 0.2, 4)
    points = []
    for index, point in enumerate(series):
        bar_height = plot_height * point.count / chart.scale_top
        x = chart.left + index * slot
        bar = Bar(
            day=point.day,
            count=point.count,
            uniques=point.uniques,
            x=round(x + gap / 2, 2),
            y=round(chart.bottom - bar_height, 2),
            width=round(max(slot - gap, 0.5), 2),
            height=round(bar_height, 2),
            center=round(x + slot / 2, 2),
        )
        chart.bars.append(bar)
        unique_y = chart.bottom - plot_height * point.uniques / chart.scale_top
        points.append(f"{bar.center},{round(unique_y, 2)}")
    chart.uniques_points = " ".join(points)
    for value in range(0, chart.scale_top + 1, step):
        y = chart.bottom - plot_height * value / chart.scale_top
        chart.y_ticks.append((round(y, 2), compact_number(value)))
    every = max(1, math.ceil(len(series) / max_labels))
    for index in range(0, len(series), every):
        bar = chart.bars[index]
        chart.x_labels.append((bar.center, f"{series[index].day:%b %d}"))
    return chart


def sparkline(series: Sequence[DayCount], *, width: int = 160, height: int = 32) -> str:
    """The ``points`` of an SVG polyline of the counts, scaled to the box."""
    if not series:
        return ""
    peak = max(point.count for point in series) or 1
    step = width / max(len(series) - 1, 1)
    points = []
    for index, point in enumerate(series):
        y = height - 2 - (height - 4) * point.count / peak  # 2px margins
        points.append(f"{round(index * step, 2)},{round(y, 2)}")
    return " ".join(points)
