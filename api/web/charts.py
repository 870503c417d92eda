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
#: the design system's dark blue: the highlighted bar against the palette's blue
HIGHLIGHT = "#003087"
#: RAG in the design system's red, warm yellow and green
RAG_COLOURS = ("#d5281b", "#ffb81c", "#007f3b")


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


@lru_cache(maxsize=16)
def _coloured(colours: tuple[str, ...]) -> Style:
    style = _style()
    return Style(**{**{k: getattr(style, k) for k in Style.__dict__ if not k.startswith("_") and not callable(getattr(style, k))},
                    "colors": colours})


#: charts drawn, by everything drawn (bounded: emptied when full; the pages' threads share it,
#: and a dictionary's get and set are each atomic, so at worst a chart is drawn twice)
_DRAWN: dict[tuple[object, ...], Markup] = {}
_DRAWN_MAX = 512


def _drawn(key: tuple[object, ...], width: int, height: int, chart: Chart) -> Markup:
    found = _DRAWN.get((key, width, height))
    if found is None:
        if len(_DRAWN) >= _DRAWN_MAX:
            _DRAWN.clear()
        found = _DRAWN[(key, width, height)] = chart.draw(width, height)
    return found


@dataclass
class Chart:
    """A chart's data: what the SVG draws and the table says."""

    title: str
    x_labels: Sequence[str]
    #: series name -> one value per x label (None: no value there)
    series: dict[str, list[float | None]] = field(default_factory=dict)
    y_title: str = ""
    kind: str = "line"  # "line", "bar" or "hbar" (horizontal bars: many long labels, e.g. 32 directorates)
    #: one colour per series instead of the palette's (RAG: red, amber, green; the legend names them)
    colours: tuple[str, ...] | None = None
    #: an x label whose bars are drawn darker (this area among the others; the page names it too)
    highlight: str | None = None
    #: the value axis starts at zero (a rate's ups and downs drawn to scale, not magnified)
    from_zero: bool = False
    #: the drawing's size (a horizontal bar chart of 32 areas needs more height than a line; a
    #: half-width chart is drawn at the width it is shown, so its text stays readable)
    width: int = 900
    height: int = 360
    #: a target line (e.g. a KPI's 75%), drawn dashed and named in the table
    target: float | None = None
    target_label: str = "target"
    #: the y axis from, to (None: pygal's, fitted to the values); a percentage reads best on 0-100
    y_range: tuple[float, float] | None = None
    #: draw the title inside the SVG too (off where the figure's caption or a card heading says it)
    show_title: bool = True
    #: x labels longer than this are cut with "…" (None: pygal's default; -1: never)
    truncate_label: int | None = None

    def rows(self) -> list[list[object]]:
        """The table: one row per x label, one column per series."""
        return [[label, *(values[i] for values in self.series.values())] for i, label in enumerate(self.x_labels)]

    def svg(self, width: int | None = None, height: int | None = None) -> Markup:
        # A page is drawn many times with the same figures: pygal takes tens of milliseconds a
        # chart, the cache a dictionary look-up (keyed on everything drawn, so new figures draw anew).
        return _drawn(self._key(), width or self.width, height or self.height, self)

    def _key(self) -> tuple[object, ...]:
        return (self.title, tuple(self.x_labels), tuple((k, tuple(v)) for k, v in self.series.items()), self.y_title,
                self.kind, self.target, self.target_label, self.colours, self.highlight, self.from_zero,
                self.y_range, self.show_title, self.truncate_label)

    def draw(self, width: int = 900, height: int = 360) -> Markup:
        cls = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar}.get(self.kind, pygal.Line)
        style = _style() if self.colours is None else _coloured(self.colours)
        chart = cls(
            style=style,
            width=width,
            height=height,
            js=(),  # no tooltip script: the SVG is a picture, its table carries the figures
            disable_xml_declaration=True,
            explicit_size=False,
            show_legend=True,
            legend_at_bottom=True,
            # up to six names a row: five ICBs' legend on one line, not a second one squeezed below
            legend_at_bottom_columns=min(6 if width >= 700 else 2, max(1, len(self.series) + (self.target is not None))),
            x_label_rotation=0 if len(self.x_labels) * 72 <= width else 45,
            show_minor_x_labels=len(self.x_labels) <= 24,
            x_labels_major_every=max(1, len(self.x_labels) // 12),
            truncate_legend=40,
            dots_size=3,
            allow_interruptions=True,
            print_values=False,
            y_title=self.y_title or None,
            include_x_axis=self.from_zero,
            margin=12,
            **({"range": self.y_range} if self.y_range else {}),
            **({"truncate_label": self.truncate_label} if self.truncate_label is not None else {}),
        )
        chart.title = self.title if self.show_title else None
        counts = [v for values in self.series.values() for v in values if v is not None]
        if counts and all(float(v).is_integer() for v in counts) and 0 <= min(counts) and max(counts) <= 20:
            # Small counts (homes, visits) on whole-number lines: no "2.6 homes" on the axis.
            chart.y_labels = list(range(0, int(max(counts)) + 1))
        chart.x_labels = list(self.x_labels)
        for name, values in self.series.items():
            points: list[object] = list(values)
            if self.highlight is not None and self.highlight in self.x_labels:
                at = list(self.x_labels).index(self.highlight)
                points[at] = {"value": values[at], "color": HIGHLIGHT}
            chart.add(name, points)
        if self.target is not None and self.kind == "line":
            chart.add(self.target_label, [self.target] * len(self.x_labels), stroke_style={"dasharray": "6, 4", "width": 2}, show_dots=False)
        svg = _SCRIPT.sub("", chart.render(is_unicode=True))
        # Described to assistive technology by the figure's caption and table, not by the drawing.
        return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))
