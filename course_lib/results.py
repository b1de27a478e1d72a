"""One source for every number: notebooks and scripts *record* the figures they report.

Defined in: notebooks/00_start_here.ipynb

A figure the course reports is computed once, by a notebook or a script, and recorded there::

    speedup = record("04.kv_cache_speedup", t_plain / t_cached, fmt=".1f")
    record_table("05.models", table, formats={"val nats/char": ".3f"})

``record`` returns the value, so it sits inside the computation. The notebook's own prose is
generated from the same variable (``md(f"... {speedup:.1f}× ...")``), and the README quotes the
recorded value through a marker that ``tools/sync_readme.py`` fills in and a test checks::

    <!--r:04.kv_cache_speedup-->4.1<!--/r-->

Values are written to ``docs/results/<prefix>.json`` (``docs/results/04.json`` for ``"04.…"`` keys,
``docs/results/bench.json`` for the benchmark's) only when ``COURSE_RECORD=1`` and the course is in
full mode (``tools/measure_notebooks.py`` and the scripts' ``--record`` flag set it): running the
tests, or a learner running a notebook, never changes the file. Fast-mode numbers are never
recorded, since the README reports full-mode runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from pathlib import Path

from .checks import check_instance, check_path, check_text
from .config import ROOT, is_fast
from .errors import ArgumentError, ArgumentTypeError

RESULTS_DIR = ROOT / "docs" / "results"
KEY_RE = re.compile(r"^[0-9a-z_]+(\.[0-9a-z_]+)+$")

#: Everything recorded in this Python session (also when nothing is written to disk).
SESSION: dict[str, dict] = {}


def recording() -> bool:
    """True when figures are written to ``docs/results/`` (``COURSE_RECORD=1``, full mode).

    Defined in: notebooks/00_start_here.ipynb
    """
    return os.environ.get("COURSE_RECORD", "0").strip() == "1" and not is_fast()


def _check_key(key) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ArgumentError(
            f"key must look like 'NN.name' or 'script.name' (lower-case letters, digits, _ and dots), got {key!r}"
        )
    return key


def _plain(value):
    """A JSON-safe scalar: numbers (NaN → None), strings and bools."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()  # NumPy / torch scalars
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    raise ArgumentTypeError(f"a recorded value must be a number, string or bool, got {type(value).__name__}")


def _format(value, spec) -> str:
    """``format(value, spec)``; a spec that does not fit the value is an :class:`ArgumentError` naming ``fmt``."""
    if not isinstance(spec, str):
        raise ArgumentTypeError(f"fmt must be a format spec such as '.3f', got {type(spec).__name__}")
    try:
        return format(value, spec)
    except (ValueError, TypeError) as e:
        raise ArgumentError(f"fmt {spec!r} is not a format spec for {value!r:.40} ({e})") from None


def results_file(key: str, results_dir: Path | None = None) -> Path:
    """The file that holds ``key``: ``docs/results/<prefix>.json``, prefix = the part before the first dot.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/results.py
    """
    results_dir = RESULTS_DIR if results_dir is None else check_path(results_dir, "results_dir", must_exist=False)
    return results_dir / f"{_check_key(key).split('.', 1)[0]}.json"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArgumentError(f"{path} is not valid JSON ({e}); restore it with `git checkout -- {path}`") from None
    if not isinstance(data, dict):
        raise ArgumentError(f"{path} must hold a JSON object of results")
    return data


def _store(key: str, entry: dict, results_dir: Path | None = None) -> None:
    entry = {**entry, "date": _dt.date.today().isoformat()}
    SESSION[key] = entry
    if not recording():
        return
    path = results_file(key, results_dir)
    data = _read_json(path)
    data[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(data.items())), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def record(key: str, value, fmt: str = "", results_dir: Path | None = None):
    """Record one figure under ``key`` (e.g. ``"04.kv_cache_speedup"``) and return ``value`` unchanged.

    ``fmt`` is how the README shows it (a format spec such as ``".3f"`` or ``",d"``).

    Defined in: notebooks/00_start_here.ipynb
    """
    _check_key(key)
    plain = _plain(value)
    _format(plain if plain is not None else math.nan, fmt)  # a bad format spec fails here, not in the README
    _store(key, {"value": plain, "fmt": fmt}, results_dir)
    return value


def record_table(key: str, table, formats: dict[str, str] | None = None, results_dir: Path | None = None):
    """Record a results table (a pandas DataFrame) under ``key``; return it unchanged.

    ``formats`` maps column names to format specs for the README (other columns are shown as they are).

    Defined in: notebooks/00_start_here.ipynb
    """
    _check_key(key)
    if not hasattr(table, "columns") or not hasattr(table, "itertuples"):
        raise ArgumentTypeError(f"record_table expects a pandas DataFrame, got {type(table).__name__}")
    if formats is not None and (
        not isinstance(formats, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in formats.items())
    ):
        raise ArgumentTypeError(f"formats must map column names to format specs (strings), got {formats!r:.60}")
    formats = dict(formats or {})
    unknown = sorted(set(formats) - set(map(str, table.columns)))
    if unknown:
        raise ArgumentError(f"formats names columns the table does not have: {unknown}")
    rows = [[_plain(v) for v in row] for row in table.itertuples(index=False)]
    _store(key, {"columns": [str(c) for c in table.columns], "rows": rows, "formats": formats}, results_dir)
    return table


def load_results(results_dir: Path | None = None) -> dict[str, dict]:
    """Every recorded figure: ``{key: entry}`` from all files in ``docs/results/``.

    Defined in: notebooks/00_start_here.ipynb
    """
    out: dict[str, dict] = {}
    results_dir = RESULTS_DIR if results_dir is None else check_path(results_dir, "results_dir", must_exist=False)
    for path in sorted(results_dir.glob("*.json")):
        out.update(_read_json(path))
    return out


def format_entry(entry: dict, fmt: str | None = None) -> str:
    """How a recorded scalar is written in the README (``"—"`` for a missing value).

    Defined in: notebooks/00_start_here.ipynb
    """
    check_instance(entry, "entry", dict)
    value = entry.get("value")
    if value is None:
        return "—"
    spec = entry.get("fmt", "") if fmt is None else check_text(fmt, "fmt")
    return _format(value, spec) if not isinstance(value, str) else value


def table_markdown(entry: dict) -> str:
    """A recorded table as a Markdown table (numbers right-aligned).

    Defined in: notebooks/00_start_here.ipynb
    """
    check_instance(entry, "entry", dict)
    cols, rows, formats = entry.get("columns"), entry.get("rows"), entry.get("formats", {})
    if not (
        isinstance(cols, list)
        and isinstance(rows, list)
        and isinstance(formats, dict)
        and all(isinstance(r, list) and len(r) == len(cols) for r in rows)
    ):
        raise ArgumentError("entry must be a recorded table: columns, rows of that length and formats (record_table)")
    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) for i in range(len(cols))]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"]
    for r in rows:
        cells = []
        for c, v in zip(cols, r):
            if v is None:
                cells.append("—")
            elif isinstance(v, str):
                cells.append(v)
            else:
                cells.append(_format(v, formats.get(c, "")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def md(text: str):
    """Show Markdown built from computed values, e.g. ``md(f"The cache is **{speedup:.1f}×** faster.")``.

    Notebook prose that states a measured number is written this way, so the number it states is
    the one the notebook just computed.

    Defined in: notebooks/00_start_here.ipynb
    """
    from IPython.display import Markdown

    return Markdown(text)
