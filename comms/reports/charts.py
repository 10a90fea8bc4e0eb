"""Charts for the dashboard and the reports, drawn on the server as inline SVG by pygal: readable
without JavaScript (pygal's own config script is taken out), titled and labelled on both axes,
each with its figures as a table, the text alternative a screen reader or a mail client reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

# Vigil's admin palette: severity-like reds and ambers first, then blues; targets in grey.
PALETTE = ("#c62828", "#ef6c00", "#1565c0", "#2e7d32", "#6a1b9a", "#00838f", "#757575")
STYLE = dict(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#888",
    font_family="-apple-system, 'Segoe UI', system-ui, Roboto, 'Helvetica Neue', Arial, sans-serif",
    title_font_size=14,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    no_data_font_size=14,
    guide_stroke_color="#e3e3e3",
    major_guide_stroke_color="#cfcfcf",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
)
SIZE = {"width": 640, "height": 280}


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString  # an <svg> element, for inline use
    header: tuple[str, ...]  # the text alternative: a table of the same figures
    rows: tuple[tuple[str, ...], ...]


def _config(title: str, x_title: str, y_title: str, *, colors: Sequence[str] = PALETTE, **extra) -> dict:
    style = Style(colors=tuple(colors), **STYLE)
    return {
        "title": title, "x_title": x_title, "y_title": y_title, "style": style, "js": [],
        "disable_xml_declaration": True, "explicit_size": False, "legend_at_bottom": True,
        "no_data_text": "Nothing in this period", "print_values": False, "show_y_guides": True, "show_x_guides": False, "truncate_label": -1,
        "include_x_axis": True, "show_minor_y_labels": False, "y_labels_major_count": 6, "min_scale": 4, "max_scale": 6,
        **SIZE, **extra,
    }


def _svg(chart, title: str) -> SafeString:
    """The chart as an inline <svg>: no script, labelled as an image by its title."""
    root = chart.render_tree()  # pygal's tree names its elements without a namespace
    for parent in list(root.iter()):
        for script in [node for node in parent if node.tag == "script"]:
            parent.remove(script)
    root.set("role", "img")
    root.set("aria-label", title)
    return mark_safe(ElementTree.tostring(root, encoding="unicode"))  # noqa: S308 — the tree escapes every text


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return f"{text}{unit}"


def line(
    title: str, x_labels: Sequence[str], series: dict[str, Sequence[float | None]], *, x_title: str, y_title: str,
    targets: dict[str, float] | None = None, unit: str = "",
) -> Chart:
    """One line per series over `x_labels`; a target per series name as a dashed flat line of the
    series' colour ("SEV-1 target"). A gap (None) is a period with nothing to measure."""
    targets = {name: value for name, value in (targets or {}).items() if value is not None}
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    colors += [colors[list(series).index(name)] if name in series else PALETTE[-1] for name in targets]
    chart = pygal.Line(**_config(title, x_title, y_title, colors=colors), allow_interruptions=True, dots_size=3)
    chart.x_labels = list(x_labels)
    for name, values in series.items():
        chart.add(name, list(values))
    for name, value in targets.items():
        chart.add(f"{name} target", [value] * len(x_labels), stroke_style={"dasharray": "6, 4", "width": 1.5}, show_dots=False)
    header = (x_title, *series, *(f"{name} target" for name in targets))
    rows = tuple(
        (label, *(_number(values[i], unit) for values in series.values()), *(_number(v, unit) for v in targets.values()))
        for i, label in enumerate(x_labels)
    )
    return Chart(title, _svg(chart, title), header, rows)


def stacked_bars(
    title: str, x_labels: Sequence[str], series: dict[str, Sequence[float]], *, x_title: str, y_title: str, unit: str = ""
) -> Chart:
    """Bars over `x_labels`, each stacked from `series` in order (e.g. incidents per week by severity)."""
    tallest = max((sum(v[i] or 0 for v in series.values()) for i in range(len(x_labels))), default=0)
    chart = pygal.StackedBar(**_config(title, x_title, y_title, y_labels=_whole_steps(tallest)))
    chart.x_labels = list(x_labels)
    for name, values in series.items():
        chart.add(name, list(values))
    header = (x_title, *series, "Total")
    rows = tuple(
        (label, *(_number(values[i], unit) for values in series.values()), _number(sum(v[i] or 0 for v in series.values()), unit))
        for i, label in enumerate(x_labels)
    )
    return Chart(title, _svg(chart, title), header, rows)


def bars(
    title: str, values: dict[str, float | None], *, x_title: str, y_title: str, unit: str = "",
    horizontal: bool = False, top: float | None = None,
) -> Chart:
    """One bar per label (e.g. SLA compliance by severity, pages per person); `top` fixes the
    scale (100 for shares)."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    extra = {"range": (0, top)} if top is not None else {"y_labels": _whole_steps(max((v or 0 for v in values.values()), default=0))}
    if horizontal:  # the labels run down the side, the values along the bottom
        extra |= {"show_minor_y_labels": True, "height": max(200, 80 + 30 * len(values))}
        x_title, y_title = y_title, x_title
    chart = kind(**_config(title, x_title, y_title, show_legend=False, **extra))
    chart.x_labels = list(values)
    chart.add(x_title if horizontal else y_title, list(values.values()))
    rows = tuple((label, _number(value, unit)) for label, value in values.items())
    header = (y_title, x_title) if horizontal else (x_title, y_title)
    return Chart(title, _svg(chart, title), header, rows)


def _whole_steps(top: float) -> list[int]:
    """Axis labels for counts: whole numbers, about five of them."""
    step = max(1, -(-int(top) // 5))
    return list(range(0, int(top) + step + 1, step))
