"""Charts drawn on the server as SVG (pygal), each with its data as a table.

A chart is a `Chart`: a title, the x labels (periods), and one or more series of values.
`svg()` draws it with pygal, without pygal's tooltip script (nothing is fetched, no script
runs) and in the NHS.UK palette; the page shows it inside a `<figure>` whose caption is the
title, with the figures themselves in a table beside it for screen readers and for anyone
who wants the numbers (colour never carries the meaning alone: every series is named in
the legend and in the table). The same SVG prints and goes into a PDF later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import re
from functools import lru_cache

import pygal
from markupsafe import Markup
from pygal.style import Style

#: NHS.UK colours: blue, dark pink, green, warm yellow, purple, dark grey
#: pygal writes its configuration as an inline script even without its tooltip script
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
PALETTE = ("#005eb8", "#7c2855", "#007f3b", "#ffb81c", "#330072", "#425563", "#00a499", "#ed8b00")


@lru_cache(maxsize=1)
def _style() -> Style:
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#212b32",
        foreground_strong="#212b32",
        foreground_subtle="#4c6272",
        colors=PALETTE,
        font_family="Frutiger W01, Arial, Sans-serif",
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=14,
        title_font_size=16,
        value_font_size=12,
        opacity="1",
        opacity_hover="1",
    )


@dataclass
class Chart:
    """A chart's data: what the SVG draws and the table says."""

    title: str
    x_labels: Sequence[str]
    #: series name -> one value per x label (None: no value there)
    series: dict[str, list[float | None]] = field(default_factory=dict)
    y_title: str = ""
    kind: str = "line"  # "line" or "bar"
    #: a target line (e.g. a KPI's 75%), drawn dashed and named in the table
    target: float | None = None
    target_label: str = "target"
    #: the size it is drawn at: draw it at the size it is shown (half a page: ~460), or its words shrink
    width: int = 900
    height: int = 360

    def rows(self) -> list[list[object]]:
        """The table: one row per x label, one column per series."""
        return [[label, *(values[i] for values in self.series.values())] for i, label in enumerate(self.x_labels)]

    def svg(self, width: int | None = None, height: int | None = None) -> Markup:
        """The drawing; the same figures are drawn once (pygal takes ~15 ms a chart, and a home's
        page has a dozen whose figures change only when a return or report comes in)."""
        key = (
            self.title, tuple(self.x_labels), tuple((name, tuple(values)) for name, values in self.series.items()),
            self.y_title, self.kind, self.target, self.target_label,
        )
        return _drawn(key, width or self.width, height or self.height)

    def draw(self, width: int = 900, height: int = 360) -> Markup:
        cls = pygal.Bar if self.kind == "bar" else pygal.Line
        chart = cls(
            style=_style(),
            width=width,
            height=height,
            js=(),  # no tooltip script: the SVG is a picture, its table carries the figures
            disable_xml_declaration=True,
            explicit_size=False,
            show_legend=True,
            legend_at_bottom=True,
            legend_at_bottom_columns=min(4 if width >= 700 else 2, max(1, len(self.series) + (self.target is not None))),
            x_label_rotation=0 if len(self.x_labels) * 72 <= width else 45,
            show_minor_x_labels=len(self.x_labels) <= 24,
            x_labels_major_every=max(1, len(self.x_labels) // 12),
            truncate_legend=40,
            dots_size=3,
            allow_interruptions=True,
            print_values=False,
            y_title=self.y_title or None,
            margin=12,
        )
        chart.title = self.title
        chart.x_labels = list(self.x_labels)
        for name, values in self.series.items():
            chart.add(name, list(values))
        if self.target is not None and self.kind == "line":
            chart.add(self.target_label, [self.target] * len(self.x_labels), stroke_style={"dasharray": "6, 4", "width": 2}, show_dots=False)
        svg = _SCRIPT.sub("", chart.render(is_unicode=True))
        # Described to assistive technology by the figure's caption and table, not by the drawing.
        return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))


@lru_cache(maxsize=1024)
def _drawn(key: tuple, width: int, height: int) -> Markup:  # type: ignore[type-arg]
    title, x_labels, series, y_title, kind, target, target_label = key
    chart = Chart(title, x_labels, {name: list(values) for name, values in series}, y_title, kind, target, target_label)
    return chart.draw(width, height)
