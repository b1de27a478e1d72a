"""Show the real source code of a course_lib object inside a notebook.

Defined in: notebooks/00_start_here.ipynb
"""

from __future__ import annotations

import ast
import html
import inspect
import textwrap
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from .checks import check_flag, check_text
from .config import ROOT
from .errors import ArgumentTypeError


class Source:
    """Source code of an object: highlighted HTML in a notebook, plain text elsewhere.

    Defined in: notebooks/00_start_here.ipynb
    """

    def __init__(self, code: str, where: str):
        self.code = check_text(code, "code")
        self.where = check_text(where, "where")

    def __repr__(self) -> str:
        return f"# {self.where}\n{self.code}"

    def _repr_html_(self) -> str:
        fmt = HtmlFormatter(style="friendly", noclasses=True, nowrap=False)
        body = highlight(self.code, PythonLexer(), fmt)
        return (
            f'<div style="font-size:0.85em;color:#555">{html.escape(self.where)}</div>'
            f'<div style="max-height:32em;overflow:auto">{body}</div>'
        )


def _is_check(stmt: ast.stmt) -> bool:
    """A bare call of an argument-check helper: ``check_int(...)``, ``self._check_ids(idx)``."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    f = stmt.value.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return name.startswith(("check_", "_check"))


def _core_lines(lines: list[str]) -> list[str]:
    """The lines of a function without its docstring and its bare argument-check calls."""
    text = textwrap.dedent("".join(lines))
    node = ast.parse(text).body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return lines
    drop: set[int] = set()
    for i, stmt in enumerate(node.body):
        is_doc = i == 0 and isinstance(stmt, ast.Expr) and isinstance(getattr(stmt, "value", None), ast.Constant)
        if is_doc or _is_check(stmt):
            drop.update(range(stmt.lineno - 1, stmt.end_lineno))
    if not drop:
        return lines
    indent = lines[node.body[0].lineno - 1][
        : len(lines[node.body[0].lineno - 1]) - len(lines[node.body[0].lineno - 1].lstrip())
    ]
    out, noted = [], False
    for i, line in enumerate(lines):
        if i in drop:
            if not noted:
                out.append(f"{indent}...  # docstring and argument checks hidden: show_source(..., core=False)\n")
                noted = True
            continue
        out.append(line)
    return out


def show_source(obj, core: bool = False) -> Source:
    """Return the real, current source of a function, class or module, syntax-highlighted.

    Because it reads the installed code, what a notebook shows can never drift from what runs.
    ``core=True`` hides a function's docstring and its argument checks, so the idea comes first.

    Defined in: notebooks/00_start_here.ipynb
    """
    core = check_flag(core, "core")
    try:
        lines, start = inspect.getsourcelines(obj)
        path = Path(inspect.getsourcefile(obj) or "?")
    except (TypeError, OSError) as e:
        raise ArgumentTypeError(
            f"obj must be a function, class or module defined in a file, got {type(obj).__name__}"
        ) from e
    try:
        shown = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        shown = str(path)
    end = start + len(lines) - 1
    where = f"{shown}, lines {max(start, 1)}–{end}"
    if core:
        lines = _core_lines(lines)
        where += " (core)"
    return Source("".join(lines).rstrip("\n"), where)
