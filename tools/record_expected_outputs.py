"""Record the fast-mode outputs of cells marked ``# NBVAL_CHECK_OUTPUT`` into tests/nbval_expected/NN_topic.json.

nbval compares those cells with these recorded outputs (the notebooks are committed without outputs).
Run this after changing what such a cell prints, then review the diff of tests/nbval_expected/.

Usage: python tools/record_expected_outputs.py notebooks/NN_topic.ipynb [...]
"""

import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_DIR = ROOT / "tests" / "nbval_expected"


def record(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
            kept = [o for o in cell.outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"]
            if len(kept) != len(cell.outputs):
                raise SystemExit(
                    f"{path.name} cell {cell.id}: NBVAL_CHECK_OUTPUT cells must print plain text only "
                    f"(got {[o.get('output_type') for o in cell.outputs]})"
                )
            out[cell.id] = [dict(o) for o in kept]
    return out


if __name__ == "__main__":
    os.environ["COURSE_FAST"] = "1"
    os.environ.setdefault("MPLBACKEND", "agg")
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    EXPECTED_DIR.mkdir(exist_ok=True)
    for arg in sys.argv[1:]:
        p = Path(arg).resolve()
        cells = record(p)
        out = EXPECTED_DIR / f"{p.stem}.json"
        out.write_text(json.dumps(cells, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{p.name}: recorded {len(cells)} checked cell(s) in {out.relative_to(ROOT)}")
