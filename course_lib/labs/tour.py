"""Notebook 00's lab: small real-data helpers for the course tour (the speaker panel, the data inventory).

Defined in: notebooks/00_start_here.ipynb
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache

import ipywidgets as w
import pandas as pd

from ..checks import check_instance, check_int, check_text
from ..config import DATA_DIR
from ..data import DataFileError, read_checksums, verify_file
from ..generate import generate_text
from ..widgets import InputError, Panel, closest_matches, require_text
from .exercises import Hint, exercise

_SPEAKER = re.compile(r"(?:\A|\n\n)([A-Z][A-Za-z' ]{1,30}):\n")  # a speaker's name opens each speech


def speaker_counts(text: str) -> Counter:
    """How many speeches each character gives in a play text (lines like ``ROMEO:``).

    Defined in: notebooks/00_start_here.ipynb
    """
    return Counter(m.group(1).strip().upper() for m in _SPEAKER.finditer(check_text(text, "text")))


def speaker_report(name: str, text: str, counts: Counter | None = None, n_lines: int = 3) -> str:
    """Render logic of the tour widget: a character's number of speeches and their first speech.

    Raises :class:`~course_lib.widgets.InputError` for an empty name or a name not in the play
    (suggesting close spellings).

    Defined in: notebooks/00_start_here.ipynb
    """
    check_text(text, "text")
    counts = speaker_counts(text) if counts is None else check_instance(counts, "counts", Mapping)
    n_lines = check_int(n_lines, "n_lines", min=0)
    key = require_text(name, "a character's name (e.g. ROMEO)").upper()
    if key not in counts:
        near = closest_matches(key, counts)
        hint = f" Did you mean {', '.join(near)}?" if near else " Try ROMEO, JULIET or KING RICHARD III."
        raise InputError(f"No character called {key!r} speaks in Tiny Shakespeare.{hint}")
    start = text.index(f"\n{key}:\n") + 1 if f"\n{key}:\n" in text else text.index(f"{key}:\n")
    speech = text[start:].split("\n\n", 1)[0].splitlines()[: 1 + n_lines]
    rank = sorted(counts.values(), reverse=True).index(counts[key]) + 1
    return f"{key} speaks {counts[key]} times (rank {rank} of {len(counts)} characters).\nFirst speech:\n" + "\n".join(
        speech
    )


def speaker_panel(text: str) -> Panel:
    """The tour's example widget: type a character's name, see how often they speak.

    Defined in: notebooks/00_start_here.ipynb
    """
    counts = speaker_counts(text)
    return Panel(
        {"name": w.Text(value="ROMEO", description="character", continuous_update=False)},
        lambda name: speaker_report(name, text, counts),
        title="Who speaks in Tiny Shakespeare?",
    )


def data_inventory() -> pd.DataFrame:
    """Every bundled data file with its size and whether its sha256 matches data/SHA256SUMS.

    Defined in: notebooks/00_start_here.ipynb
    """
    rows = []
    for rel in sorted(read_checksums()):
        path = DATA_DIR / rel
        if not path.exists():
            status = "MISSING: git checkout -- data/" + rel
        else:
            try:
                verify_file(rel)
                status = "ok"
            except DataFileError:
                status = "CORRUPTED: git checkout -- data/" + rel
        rows.append(
            {
                "file": f"data/{rel}",
                "kB": round(path.stat().st_size / 1024, 1) if path.exists() else None,
                "sha256 check": status,
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Exercise 00.1: continue a prompt with the shipped GPT
# ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _shipped_gpt():
    from ..char_lm import load_char_lm

    model, tok, _, _ = load_char_lm("gpt")
    return model, tok


def _reference_continuation(prompt: str, n: int, seed: int) -> str:
    model, tok = _shipped_gpt()
    return generate_text(model, tok, prompt, n, strategy="top-p", temperature=0.8, top_p=0.9, seed=seed)


@exercise(
    "00.1",
    "a function continue_text(prompt, n, seed) that returns the prompt followed by n characters sampled "
    "from the shipped GPT (top-p 0.9, temperature 0.8)",
    wrong=lambda: lambda prompt, n, seed: prompt + "e" * n,
)
def _check_continue_text(answer):
    if not callable(answer):
        raise Hint("continue_text must be a function: def continue_text(prompt, n, seed): ...")
    for prompt, n, seed in (("KING:\n", 30, 1), ("To be", 12, 7)):
        out = answer(prompt, n, seed)
        if not isinstance(out, str):
            raise Hint(f"continue_text must return a str, it returned a {type(out).__name__}")
        if not out.startswith(prompt):
            raise Hint("The text should start with the prompt itself, then the new characters.")
        if len(out) != len(prompt) + n:
            raise Hint(
                f"Asked for {n} new characters after a {len(prompt)}-character prompt, got {len(out) - len(prompt)}."
            )
        if answer(prompt, n, seed) != out:
            raise Hint("Two calls with the same seed gave different texts: pass the seed to the sampler.")
        if out != _reference_continuation(prompt, n, seed):
            raise Hint(
                "The characters are not the GPT's top-p sample: use generate_text(gpt, tok, prompt, n, "
                "strategy=..., temperature=..., top_p=..., seed=seed) with the settings the exercise gives."
            )
