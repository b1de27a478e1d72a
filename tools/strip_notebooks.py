"""Remove outputs, execution counts and widget state from notebooks (commit them clean).

The kernel metadata JupyterLab fills in when it opens a notebook (``kernelspec`` and the full
``language_info`` of the course's Python kernel) is kept, so that a learner who opens a notebook
and closes it without running anything is not asked to save changes they never made.

Usage: python tools/strip_notebooks.py [notebooks/*.ipynb]   (default: every notebook in notebooks/)
"""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def language_info() -> dict:
    """What ipykernel reports for this Python (JupyterLab writes the same into the notebook on opening)."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


def strip(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = language_info()
    after = nbformat.writes(nb)
    if after != before:
        path.write_text(after + ("" if after.endswith("\n") else "\n"), encoding="utf-8")
        return True
    return False


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for p in paths:
        print(("stripped " if strip(p) else "clean    ") + str(p))
