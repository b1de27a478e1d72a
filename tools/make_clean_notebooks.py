"""Generate the exercise ("clean") versions of the notebooks into clean/ (fastbook style).

A clean notebook keeps every heading, every exercise prompt and every code cell, but drops the
explanatory prose, so you can re-run the chapter and explain each step to yourself; each exercise
solution (a code cell starting with ``# SOLUTION``) becomes a stub for you to fill in: the names the
solution defines are set to ``...``, so the ``check("NN.k", ...)`` cell after it runs and says
"no answer yet" until you write yours.

Never edit clean/ by hand: change the notebook, then run ``python tools/make_clean_notebooks.py``.
A test checks that clean/ matches what this tool generates.
"""

import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
STUB = "# Your turn: write your solution to the exercise above here.\n"


def stub(solution: str) -> str:
    """The exercise stub: the names the solution defines at top level, each set to ``...``."""
    src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in solution.splitlines())
    names = []
    for node in ast.parse(src).body:
        targets = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else []
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                targets += (
                    [t.id]
                    if isinstance(t, ast.Name)
                    else [e.id for e in getattr(t, "elts", []) if isinstance(e, ast.Name)]
                )
        names += [n for n in targets if n not in names and not n.startswith("_")]
    return STUB + "".join(f"{n} = ...  # your answer\n" for n in names)


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type == "markdown":
            first = src.lstrip()
            if first.startswith("#"):  # keep headings only (the first line of the cell)
                out.cells.append(nbformat.v4.new_markdown_cell(first.splitlines()[0], id=cell.get("id")))
            elif first.startswith("**Exercise"):
                out.cells.append(nbformat.v4.new_markdown_cell(src, id=cell.get("id")))
        elif cell.cell_type == "code":
            code = stub(src) if src.lstrip().startswith("# SOLUTION") else src
            out.cells.append(nbformat.v4.new_code_cell(code, id=cell.get("id")))
    return out


def generate(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        target = dest / path.name
        target.write_text(nbformat.writes(clean_notebook(nb)) + "\n", encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "clean"
    for p in generate(dest):
        print("wrote", p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
