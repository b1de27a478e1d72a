"""Break a copy of course_lib on purpose and check that the tests notice (mutation testing, by hand).

Each mutant is a bug that once slipped past the suite: a one-line change to one file, and the tests that
must now fail. For each, the script copies ``course_lib/`` to a temporary folder, applies the change, runs
those tests against the copy (``PYTHONPATH`` points at it) and reports whether they failed. The clean copy
must pass the same tests. ``tests/test_mutants.py`` runs this in the test command.

Usage: python tools/check_mutants.py [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # relative to course_lib/
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids that must fail


MUTANTS = (
    Mutant(
        "grad_clip ignored",
        "train.py",
        "torch.nn.utils.clip_grad_norm_(params, grad_clip)",
        "pass  # clip_grad_norm_ forgotten",
        ("tests/test_foundation.py::test_grad_clip_limits_the_update_to_exactly_the_clip_norm",),
    ),
    Mutant(
        "warm-up off by one",
        "train.py",
        "return base_lr * (step + 1) / warmup",
        "return base_lr * step / warmup",
        ("tests/test_foundation.py::test_cosine_schedule_warms_up_linearly_then_decays_exactly",),
    ),
    Mutant(
        "KV-cache overflow keeps 1 token",
        "generate.py",
        "max(1, max_ctx // 2)",
        "1",
        ("tests/test_05_text_generation.py::test_kv_cache_overflow_reencodes_the_newest_half_of_the_context",),
    ),
    Mutant(
        "GPT-2 residual initialisation disabled",
        "models/gpt.py",
        "for proj in (block.attn.out_proj, block.mlp.proj):",
        "for proj in ():",
        ("tests/test_04_attention.py::test_gpt2_scaled_initialisation_of_residual_projections",),
    ),
    Mutant(
        "top-p boundary inclusive",
        "generate.py",
        "before < float(p) - 1e-12",
        "before <= float(p)",
        ("tests/test_05_text_generation.py::test_top_p_boundary_is_exact",),
    ),
)


def run_tests(repo: Path, tests: tuple[str, ...]) -> bool:
    """True when the tests pass in the copy ``repo`` (its own course_lib and tests, the real data)."""
    env = {**os.environ, "PYTHONPATH": str(repo), "COURSE_THREADS": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--no-header", *tests]
    out = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    return out.returncode == 0


def _copy_repo(tmp: Path) -> Path:
    """A copy of the code and tests (the data folder linked, not copied): the copy imports its own course_lib."""
    repo = tmp / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("course_lib", "tests", "tools"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=ignore)
    for name in ("conftest.py", "pyproject.toml", "requirements.txt"):
        shutil.copy2(ROOT / name, repo / name)
    (repo / "data").symlink_to(ROOT / "data", target_is_directory=True)
    return repo


def check(mutant: Mutant | None) -> bool:
    """For a mutant: True when its tests fail. For None (the clean code): True when they pass."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = _copy_repo(Path(tmp))
        lib = repo / "course_lib"
        if mutant is None:
            tests = tuple(t for m in MUTANTS for t in m.tests)
            return run_tests(repo, tests)
        target = lib / mutant.file
        text = target.read_text(encoding="utf-8")
        if text.count(mutant.old) != 1:
            raise SystemExit(f"mutant {mutant.name!r}: expected exactly one {mutant.old!r} in course_lib/{mutant.file}")
        target.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
        return not run_tests(repo, mutant.tests)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="run only the mutant with this name")
    args = ap.parse_args(argv)
    ok = check(None)
    print(f"{'PASS' if ok else 'FAIL'}  clean code passes the mutants' tests")
    for m in MUTANTS:
        if args.only and m.name != args.only:
            continue
        caught = check(m)
        ok = ok and caught
        print(
            f"{'PASS' if caught else 'FAIL'}  {m.name}: {'caught' if caught else 'NOT caught'} by {', '.join(m.tests)}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
