"""Environment check: versions against the pins, threads, memory, fast/full mode.

Defined in: notebooks/00_start_here.ipynb
"""

from __future__ import annotations

import platform
import re
import sys
import warnings
from importlib import metadata

import pandas as pd
import psutil
import torch

from .checks import check_flag
from .config import ROOT, available_cpus, is_fast


def _read_pins(requirements=ROOT / "requirements.txt") -> dict[str, str]:
    """``{package: version}`` for every ``name==version`` line of requirements.txt."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#;]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_env(verbose: bool = True) -> pd.DataFrame:
    """Compare installed package versions with requirements.txt and report the machine.

    Returns a table (package, pinned, installed, ok) and prints a summary with warnings for any
    difference: a different version usually still works, but the course's numbers were measured
    with the pinned ones.

    Defined in: notebooks/00_start_here.ipynb
    """
    verbose = check_flag(verbose, "verbose")
    pins = _read_pins()
    rows = []
    for name, pinned in sorted(pins.items()):
        got = _installed(name)
        # a local build tag such as 2.13.0+cpu matches the pin 2.13.0
        ok = got is not None and got.split("+")[0] == pinned.split("+")[0]
        rows.append({"package": name, "pinned": pinned, "installed": got or "missing", "ok": ok})
    table = pd.DataFrame(rows)
    mem = psutil.virtual_memory()
    facts = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "usable CPUs": available_cpus(),
        "torch threads": torch.get_num_threads(),
        "memory available (GB)": round(mem.available / 1e9, 1),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "mode": "FAST (COURSE_FAST=1)" if is_fast() else "full",
    }
    table.attrs["facts"] = facts
    if verbose:
        for k, v in facts.items():
            print(f"{k:>22}: {v}")
        bad = table[~table["ok"]]
        if bad.empty:
            print(f"{'packages':>22}: all {len(table)} match requirements.txt")
        for _, r in bad.iterrows():
            msg = f"{r['package']}: pinned {r['pinned']}, installed {r['installed']}"
            warnings.warn(msg + " (run the README's install command to match the course)", stacklevel=2)
        if sys.version_info[:2] != (3, 11):
            warnings.warn(f"the course is tested on Python 3.11; this is {platform.python_version()}", stacklevel=2)
        if mem.available < 1.5e9:
            warnings.warn(
                f"only {mem.available / 1e9:.1f} GB of memory is free; notebooks need up to 1.5 GB", stacklevel=2
            )
    return table
