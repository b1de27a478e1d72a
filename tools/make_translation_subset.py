"""Make data/eng_fra_tutorial/eng-fra_tutorial.txt: the PyTorch tutorial's English–French pairs, text unchanged.

Used by notebooks/08_translation.ipynb. Run from anywhere:

    python tools/make_translation_subset.py

Input: ../shared/data/eng_fra_tatoeba/eng-fra_max10words.txt relative to the repository root
(``English<TAB>French`` per line; sentence pairs from the Tatoeba Project (tatoeba.org), CC BY 2.0,
via www.manythings.org/anki). The filter is the one of the PyTorch tutorial "NLP From Scratch:
Translation with a Sequence to Sequence Network and Attention" (Sean Robertson), applied exactly:

1. read the file as UTF-8, split on ``\\n``, drop empty lines, split each line on its single ``\\t``;
2. normalise both sides with the tutorial's ``normalizeString`` (:func:`course_lib.translation.tutorial_normalize`:
   lower-case, strip accents, put a space before ``.!?``, replace every run of other characters
   than a–z, ``!`` and ``?`` by one space, strip);
3. keep the pair iff both normalised sides have fewer than 10 space-separated tokens and the
   normalised English side starts with one of the tutorial's ``eng_prefixes`` ("i am ", "i m ",
   "he is", … , "they re ");
4. write the kept pairs **with their original text** (case, accents and punctuation untouched,
   so the notebook can tokenise real French), in source order, ``English<TAB>French``, ``\\n``
   line endings and a final newline.

It then updates data/SHA256SUMS and prints the counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course_lib.data import sha256_file, update_checksums  # noqa: E402
from course_lib.translation import PAIRS_FILE, tutorial_keeps  # noqa: E402

SOURCE = ROOT / ".." / "shared" / "data" / "eng_fra_tatoeba" / "eng-fra_max10words.txt"
TARGET = ROOT / "data" / PAIRS_FILE


def make_subset(source: Path = SOURCE) -> tuple[list[str], int]:
    """The kept lines (original text) and the number of pairs read."""
    if not source.exists():
        raise SystemExit(f"{source} is missing: this script reads the shared copy of the Tatoeba English-French pairs")
    kept, n = [], 0
    for line in source.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        n += 1
        english, french = line.split("\t")
        if tutorial_keeps(english, french):
            kept.append(line)
    return kept, n


if __name__ == "__main__":
    lines, n_read = make_subset()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(lines) + "\n", encoding="utf-8")
    update_checksums([TARGET, TARGET.parent / "README.md"] if (TARGET.parent / "README.md").exists() else [TARGET])
    print(f"read {n_read} pairs, kept {len(lines)}; wrote {TARGET.stat().st_size} bytes to {TARGET.relative_to(ROOT)}")
    print(f"{sha256_file(TARGET)}  {PAIRS_FILE}")
