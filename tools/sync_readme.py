"""Regenerate every generated part of README.md from the course's one source for each number.

* the course map (between ``<!-- budget:start -->`` and ``<!-- budget:end -->``): the notebooks, sections
  and what you build from ``course_lib/course.py``, the measured times and memory from
  ``docs/notebook_budget.csv`` (written by ``tools/measure_notebooks.py``);
* every recorded figure quoted inline as ``<!--r:KEY-->value<!--/r-->`` and every recorded table between
  ``<!--table:KEY-->`` and ``<!--/table-->``, from ``docs/results/*.json`` (``course_lib.results``);
* the errata table (between ``<!-- errata:start -->`` and ``<!-- errata:end -->``) from
  ``course_lib.article.ERRATA``;
* in ``docs/facilitators.md``, the workshop schedules (between ``<!-- schedule:start -->`` and
  ``<!-- schedule:end -->``) from ``course_lib.course.SCHEDULES`` and the measured run times.

``python tools/sync_readme.py`` rewrites README.md; ``--check`` only says whether it is current (exit 1 if
not). ``tests/test_readme_sync.py`` runs the check, so the README can never disagree with the results files.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_lib.article import ERRATA  # noqa: E402
from course_lib.course import (  # noqa: E402
    BUDGET_CSV,
    COURSE,
    FAST_LIMIT_S,
    MEMORY_LIMIT_MB,
    ONE_CPU_LIMIT_S,
    SCHEDULES,
    notebook,
)
from course_lib.results import format_entry, load_results, table_markdown  # noqa: E402

README = ROOT / "README.md"
FACILITATORS = ROOT / "docs" / "facilitators.md"
ONE_CPU_MIN_SHARE = 0.85  # a 1-CPU run that got less of its CPU than this is marked as loaded

INLINE = re.compile(r"<!--r:([0-9a-z_.]+)-->(.*?)<!--/r-->", re.S)
TABLE = re.compile(r"(<!--table:([0-9a-z_.]+)-->\n)(.*?)(<!--/table-->)", re.S)
BLOCK = "<!-- {name}:start -->", "<!-- {name}:end -->"


class SyncError(Exception):
    """The README names a result that no results file holds."""


def load_budget(path: Path = BUDGET_CSV) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def course_map(rows: list[dict]) -> str:
    """The README's course map: one row per notebook of ``course_lib.course.COURSE``."""
    by_nb: dict[str, dict] = {}
    for r in rows:
        by_nb.setdefault(r["notebook"].removesuffix(".ipynb"), {})[r["mode"]] = r
    one_cpu = any(m == "full-1cpu" for nb in by_nb.values() for m in nb)
    head = "| notebook | article section | what you build | full mode | peak memory | fast mode |"
    sep = "| --- | --- | --- | ---: | ---: | ---: |"
    if one_cpu:
        head += " full mode, 1 CPU |"
        sep += " ---: |"
    lines = [head + " in budget |", sep + " :---: |"]
    cpus = {r["notebook"]: float(r.get("cpus") or 0) for r in rows}
    over: list[str] = []

    def loaded(r: dict) -> str:
        """A mark for a time measured while other jobs shared the machine (load above the CPU count).

        A 1-CPU run is pinned to one CPU: it is marked when the notebook got less than ONE_CPU_MIN_SHARE of
        that CPU (its CPU seconds over its wall time), since jobs on the other CPUs do not slow it.
        """
        if r.get("mode") == "full-1cpu" and r.get("cpu_s"):
            return " *" if float(r["cpu_s"]) / float(r["wall_s"]) < ONE_CPU_MIN_SHARE else ""
        load = r.get("load") or ""
        # the notebook's own threads make a load of about their number: "loaded" is half a CPU more than the machine has
        return " *" if load and float(load) > float(r.get("cpus") or cpus.get(r["notebook"], 0) or 1) + 0.5 else ""

    for nb in COURSE:
        if not nb.exists:
            empty = " | " * (3 if one_cpu else 2)
            lines.append(f"| `{nb.stem}` | {nb.sections} | {nb.builds} | planned{empty}|")
            continue
        got = by_nb.get(nb.stem, {})
        full, fast, cpu1 = got.get("full"), got.get("fast"), got.get("full-1cpu")
        ok = full is not None and fast is not None
        cells = []
        if full:
            ok = ok and float(full["wall_s"]) <= nb.budget_full_s and float(full["peak_mb"]) <= MEMORY_LIMIT_MB
            cells += [f"{float(full['wall_s']) / 60:.1f} min{loaded(full)}", f"{float(full['peak_mb']):.0f} MB"]
        else:
            cells += ["not measured", ""]
        if fast:
            ok = ok and float(fast["wall_s"]) <= FAST_LIMIT_S and float(fast["peak_mb"]) <= MEMORY_LIMIT_MB
            cells.append(f"{float(fast['wall_s']):.0f} s{loaded(fast)}")
        else:
            cells.append("not measured")
        if one_cpu:
            if cpu1:
                # over the 1-CPU limit is allowed when the notebook tells a Binder learner to use fast mode
                advised = "binder_advice(" in nb.path.read_text(encoding="utf-8")
                in_time = float(cpu1["wall_s"]) <= ONE_CPU_LIMIT_S
                ok = ok and (in_time or advised) and float(cpu1["peak_mb"]) <= MEMORY_LIMIT_MB
                note = "" if in_time else (" (fast mode on Binder)" if advised else "")
                cells.append(f"{float(cpu1['wall_s']) / 60:.1f} min{loaded(cpu1)}{note}")
            else:
                cells.append("not measured")
        budget = f" (budget {nb.budget_full_s // 60} min)" if nb.budget_full_s != 180 else ""
        lines.append(
            f"| `{nb.stem}`{budget} | {nb.sections} | {nb.builds} | "
            + " | ".join(cells)
            + f" | {'yes' if ok else 'NO'} |"
        )
        if not ok:
            over.append(nb.stem)
    two = [x for x in rows if x["mode"] != "full-1cpu"]  # the 1-CPU column has its own thread count (1)
    if two:
        r = two[0]
        dates = sorted({x["date"] for x in rows})
        date = (
            dates[0]
            if len(dates) == 1
            else f"{dates[0]} to {dates[-1]}; rows measured on different days may come from different CPUs, "
            "each row's date is in `docs/notebook_budget.csv`"
        )
        lines += [
            "",
            f"Measured by `python tools/measure_notebooks.py` with {r['threads']} PyTorch threads on a "
            f"{r['cpus']}-CPU {r['machine']} machine ({date}): wall time of a fresh kernel running every cell, "
            "peak resident memory of the kernel process (full mode; fast mode stays below it). Budgets: full "
            "mode as listed (3 min; 5 for a notebook that trains several models), "
            f"fast mode {FAST_LIMIT_S} s, {MEMORY_LIMIT_MB / 1024:.1f} GB"
            + (
                f"; 1 CPU (Binder-sized) {ONE_CPU_LIMIT_S // 60} min, or the notebook says at its top to use fast "
                'mode on Binder (the 1-CPU column says "fast mode on Binder").'
                if one_cpu
                else "."
            ),
        ]
        other = sorted({x["notebook"].removesuffix(".ipynb")[:2] for x in two if x["threads"] != r["threads"]})
        if other:
            lines += [
                "",
                f"Notebooks {', '.join(other)}: full mode measured with a different number of threads "
                f"({', '.join(sorted({x['threads'] for x in two if x['threads'] != r['threads']}))}), "
                "as the `threads` column of `docs/notebook_budget.csv` says.",
            ]
        if over:
            lines += [
                "",
                "**Not within budget yet:** "
                + ", ".join(f"`{o}`" for o in over)
                + ". In a timed session run these in fast mode (`%env COURSE_FAST=1` as the first cell); shortening "
                "their full mode (or re-measuring the rows marked \\*) is open work.",
            ]
        if any(loaded(x) for x in rows):
            lines += [
                "",
                "\\* measured while other jobs shared the machine (1-minute load average more than half a CPU "
                "above the CPU count, at the start or the end of the run; for the 1-CPU column: the notebook got "
                f"less than {ONE_CPU_MIN_SHARE:.0%} of its CPU): an overestimate of what a quiet machine needs.",
            ]
    return "\n".join(lines)


def errata_markdown() -> str:
    """The errata as one Markdown table (section, what the article says, what is right, where the course shows it)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        f"{len(ERRATA)} errors, each shown with code and numbers where a number can settle it.",
        "",
        "| § | the article says | what is wrong | what is right | where the course shows it |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in ERRATA:
        lines.append(f"| {e.section} | {cell(e.quote)} | {cell(e.problem)} | {cell(e.correction)} | {cell(e.where)} |")
    return "\n".join(lines)


def schedules_markdown(rows: list[dict]) -> str:
    """Every schedule of ``course_lib.course.SCHEDULES`` as a table: teaching time plus measured run time."""
    runs = {(r["notebook"].removesuffix(".ipynb"), r["mode"]): float(r["wall_s"]) / 60 for r in rows}
    out = []
    for name, (slot, sessions) in SCHEDULES.items():
        total = 0.0
        lines = [
            f"### {name}",
            "",
            "| notebook | mode | run time | teach | focus |",
            "| --- | --- | ---: | ---: | --- |",
        ]
        for s in sessions:
            nb = notebook(s.notebook)
            run = runs.get((nb.stem, s.mode))
            total += s.teach_min + (run or 0.0)
            shown = f"{run:.1f} min" if run is not None else ("planned" if not nb.exists else "not measured")
            lines.append(f"| `{nb.stem}` | {s.mode} | {shown} | {s.teach_min} min | {s.focus} |")
        verdict = "fits" if total <= slot else "**overruns**"
        one_cpu = (
            "on one CPU, as on Binder, see the course map's 1-CPU column"
            if any(r["mode"] == "full-1cpu" for r in rows)
            else "on one CPU, as on Binder, expect full mode to take up to twice as long"
        )
        lines += ["", f"Total {total:.0f} of {slot} minutes: {verdict} (run times measured on 2 CPUs; {one_cpu})."]
        out.append("\n".join(lines))
    return "\n\n".join(out)


def replace_block(text: str, name: str, body: str) -> str:
    start, end = (m.format(name=name) for m in BLOCK)
    if start not in text or end not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + "\n" + body + "\n" + end + tail


def render(text: str, results: dict | None = None, budget_rows: list[dict] | None = None) -> str:
    """README text with every generated part regenerated; raises SyncError naming unknown result keys."""
    results = load_results() if results is None else results
    missing = sorted(
        {k for k in INLINE.findall(text) for k in [k[0]] if k not in results}
        | {m.group(2) for m in TABLE.finditer(text) if m.group(2) not in results}
    )
    if missing:
        raise SyncError(
            "README.md quotes results that no file in docs/results/ holds (run the notebook or "
            f"script that records them): {', '.join(missing)}"
        )

    def inline(m):
        entry = results[m.group(1)]
        if "value" not in entry:
            raise SyncError(f"{m.group(1)} is a table: quote it with <!--table:{m.group(1)}-->")
        return f"<!--r:{m.group(1)}-->{format_entry(entry)}<!--/r-->"

    def table(m):
        entry = results[m.group(2)]
        if "rows" not in entry:
            raise SyncError(f"{m.group(2)} is a single value: quote it with <!--r:{m.group(2)}-->")
        return f"{m.group(1)}{table_markdown(entry)}\n{m.group(4)}"

    text = INLINE.sub(inline, text)
    text = TABLE.sub(table, text)
    text = replace_block(text, "budget", course_map(load_budget() if budget_rows is None else budget_rows))
    text = replace_block(text, "errata", errata_markdown())
    text = replace_block(text, "fuzz", fuzz_markdown())
    return text


def fuzz_markdown() -> str:
    """What the fuzzing suite covers, counted from tests/fuzz (its registry and its panel table)."""
    fuzz_dir = ROOT / "tests" / "fuzz"
    if str(fuzz_dir) not in sys.path:
        sys.path.insert(0, str(fuzz_dir))
    from fuzzlib import public_items
    from registry import EXEMPT, KNOWN_FINDINGS, NOT_YET, PANELS_NOT_YET, VALID_CALL_ELSEWHERE, VALIDATION_ONLY
    from test_fuzz_panels import PANELS

    items = public_items()
    fuzzed = len(items) - len(EXEMPT) - len(NOT_YET) - len(KNOWN_FINDINGS)
    factories = [k for k in items if k.rsplit(".", 1)[1].endswith("_panel")]
    import importlib.util

    from hypothesis import settings

    spec = importlib.util.spec_from_file_location("fuzz_conftest", fuzz_dir / "conftest.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))  # registers the profiles "quick" and "ci"
    examples = {name: settings.get_profile(name).max_examples for name in ("quick", "ci")}

    def plural(n, one, many):
        return f"{n} {one if n == 1 else many}"

    text = (
        f"Of the {len(items)} public functions and classes of `course_lib`, **{fuzzed} are fuzzed** "
        f"({len(VALIDATION_ONLY) + len(VALID_CALL_ELSEWHERE)} of them through their argument checks only, their "
        "valid call being refused or, for a call that runs for seconds, made by another test), "
        f"{len(EXEMPT)} are exempt with a "
        f"reason, "
        + (
            "no known finding is left unfixed, "
            if not KNOWN_FINDINGS
            else f"{plural(len(KNOWN_FINDINGS), 'is a known finding', 'are known findings')} not fixed yet (each "
            "listed with its exception in `tests/fuzz/registry.py` and left out of the test run), "
        )
        + f"and "
        f"**{len(NOT_YET)} {'is' if len(NOT_YET) == 1 else 'are'} not fuzzed yet**; {len(PANELS)} of "
        f"{len(factories)} widget panels are driven with bad control values"
        f"{'' if not PANELS_NOT_YET else f', {len(PANELS_NOT_YET)} not yet'}. The `ci` profile draws "
        f"{examples['ci']} calls per fuzzed item (about {fuzzed * examples['ci']:,} calls, plus 3 valid calls "
        f"each), the `quick` profile {examples['quick']}; a call that breaks a promise fails the test run, so a "
        "green run means no failures."
    )
    partial = {**KNOWN_FINDINGS, **NOT_YET, **VALIDATION_ONLY, **VALID_CALL_ELSEWHERE}
    if 0 < len(partial) <= 15:
        rows = [f"`{k.removeprefix('course_lib.')}`: {v}" for k, v in partial.items()]
        text += " Not fuzzed, or fuzzed through argument checks only, and why:\n\n"
        text += "\n".join(f"* {r}" for r in rows)
    return text


def render_facilitators(text: str, budget_rows: list[dict] | None = None) -> str:
    """docs/facilitators.md with its schedules regenerated."""
    return replace_block(text, "schedule", schedules_markdown(load_budget() if budget_rows is None else budget_rows))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if a file is out of date")
    args = ap.parse_args(argv)
    stale = []
    for path, fn in ((README, render), (FACILITATORS, render_facilitators)):
        if not path.exists():
            continue
        old = path.read_text(encoding="utf-8")
        try:
            new = fn(old)
        except SyncError as e:
            print(e, file=sys.stderr)
            return 2
        if new != old:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    rel = ", ".join(str(p.relative_to(ROOT)) for p in stale)
    if args.check:
        print(f"out of date: {rel} (run `python tools/sync_readme.py`)" if stale else "README.md and docs are current")
        return 1 if stale else 0
    print(f"regenerated {rel}" if stale else "README.md and docs were already current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
