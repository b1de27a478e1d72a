"""The pattern every widget in the course follows.

Defined in: notebooks/00_start_here.ipynb

1. The logic is a plain function ``render(**values)`` that returns what to show: a string
   (plain text), an :class:`HTML` fragment, a pandas DataFrame or a matplotlib Figure. It raises
   :class:`InputError` with a friendly sentence when the learner's input cannot be used
   (an empty box, an unknown word...); a control value that a library function refuses
   (an :class:`~course_lib.errors.ArgumentError`, e.g. a negative seed) is shown the same way.
2. A builder function in course_lib wraps it in a :class:`Panel`: named controls plus an output
   area, re-rendered whenever a control changes.
3. Tests drive the panel without a browser: set ``panel.controls["name"].value`` and read
   ``panel.text`` (what the learner sees, as text) or ``panel.result`` (what render returned).

Only :class:`InputError` and :class:`~course_lib.errors.ArgumentError` are turned into a message;
any other exception is a bug and propagates.
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import pandas as pd

from .checks import check_text, closest_matches, require_text  # noqa: F401  (re-exported for the labs)
from .errors import ArgumentError, ArgumentTypeError, InputError  # noqa: F401  (InputError: re-exported for the labs)
from .plots import figure_to_png


class HTML(str):
    """A string that a :class:`Panel` shows as HTML rather than as plain text.

    Defined in: notebooks/00_start_here.ipynb
    """


def _strip_tags(s: str) -> str:
    import re

    return _html.unescape(re.sub(r"<[^>]+>", "", s))


class Panel:
    """Controls + output, driven by a plain ``render`` function. Display it as the last line of a cell.

    ``controls`` maps a keyword of ``render`` to an ipywidgets control (anything with ``.value``).
    ``continuous=False`` on sliders is recommended when rendering is slow.

    Defined in: notebooks/00_start_here.ipynb
    """

    def __init__(self, controls: Mapping[str, w.ValueWidget], render: Callable[..., Any], title: str | None = None):
        if not isinstance(controls, Mapping) or not all(
            isinstance(k, str) and hasattr(c, "value") and hasattr(c, "observe") for k, c in controls.items()
        ):
            raise ArgumentTypeError(f"controls must map keywords of render to widgets, got {type(controls).__name__}")
        if not callable(render):
            raise ArgumentTypeError(f"render must be a function, got {type(render).__name__}")
        if title is not None:
            check_text(title, "title")
        self.controls = dict(controls)
        self.render = render
        self.result: Any = None
        self.text: str = ""
        self.error: str | None = None
        self._html = w.HTML()
        self._image = w.Image(format="png", layout=w.Layout(display="none", max_width="100%"))
        head = [w.HTML(f"<b>{_html.escape(title)}</b>")] if title else []
        self.widget = w.VBox(
            head
            + [w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap")), self._html, self._image]
        )
        for c in self.controls.values():
            c.observe(lambda change: self.refresh(), names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        return {k: c.value for k, c in self.controls.items()}

    def refresh(self) -> None:
        """Call ``render`` with the current values and show the result."""
        self.error = None
        try:
            result = self.render(**self.values())
        except ArgumentError as e:  # InputError is one; the panel keeps working afterwards
            self.error = str(e)
            self.result = None
            self.text = str(e)
            self._show_html(
                f'<div style="color:#8a5300;background:#fff6e0;padding:6px;border-radius:4px">'
                f"⚠ {_html.escape(str(e))}</div>"
            )
            return
        self.result = result
        if hasattr(result, "savefig"):  # a matplotlib Figure
            title = result._suptitle.get_text() if getattr(result, "_suptitle", None) else ""
            if not title and result.axes:
                title = result.axes[0].get_title()
            self.text = f"[figure] {title}".strip()
            self._image.value = figure_to_png(result)
            self._image.layout.display = None
            self._html.value = ""
            return
        self._image.layout.display = "none"
        if isinstance(result, pd.DataFrame):
            self.text = result.to_string(index=False)
            self._html.value = result.to_html(index=False, escape=True, float_format=lambda v: f"{v:.3f}")
        elif isinstance(result, HTML):
            self.text = _strip_tags(result)
            self._html.value = str(result)
        else:
            self.text = "" if result is None else str(result)
            self._show_html(f'<pre style="white-space:pre-wrap;font-size:0.95em">{_html.escape(self.text)}</pre>')

    def _show_html(self, s: str) -> None:
        self._image.layout.display = "none"
        self._html.value = s

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"Panel({', '.join(self.controls)}) showing: {self.text[:200]!r}"
