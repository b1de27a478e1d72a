"""Show the real source code of a course_lib object inside a notebook.

Defined in: notebooks/00_start_here.ipynb
"""

from __future__ import annotations

import html
import inspect
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from .config import ROOT


class Source:
    """Source code of an object: highlighted HTML in a notebook, plain text elsewhere.

    Defined in: notebooks/00_start_here.ipynb
    """

    def __init__(self, code: str, where: str):
        self.code = code
        self.where = where

    def __repr__(self) -> str:
        return f"# {self.where}\n{self.code}"

    def _repr_html_(self) -> str:
        fmt = HtmlFormatter(style="friendly", noclasses=True, nowrap=False)
        body = highlight(self.code, PythonLexer(), fmt)
        return (
            f'<div style="font-size:0.85em;color:#555">{html.escape(self.where)}</div>'
            f'<div style="max-height:32em;overflow:auto">{body}</div>'
        )


def show_source(obj) -> Source:
    """Return the real, current source of a function, class or module, syntax-highlighted.

    Because it reads the installed code, what a notebook shows can never drift from what runs.

    Defined in: notebooks/00_start_here.ipynb
    """
    try:
        lines, start = inspect.getsourcelines(obj)
        path = Path(inspect.getsourcefile(obj) or "?")
    except (TypeError, OSError) as e:
        raise TypeError(f"show_source needs a function, class or module defined in a file, got {obj!r}") from e
    try:
        shown = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        shown = str(path)
    end = start + len(lines) - 1
    where = f"{shown}, lines {max(start, 1)}–{end}"
    return Source("".join(lines).rstrip("\n"), where)
