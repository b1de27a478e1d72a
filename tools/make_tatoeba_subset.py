"""Make data/tatoeba_eng_short/eng_short.txt: short, deduplicated English sentences from Tatoeba.

Used by notebooks/06_vae.ipynb (the sentence VAE). Run from anywhere:

    python tools/make_tatoeba_subset.py

Input: ../shared/data/eng_fra_tatoeba/eng-fra_max10words.txt relative to the repository root
(``English<TAB>French`` per line; sentence pairs from the Tatoeba Project (tatoeba.org), CC BY 2.0,
via www.manythings.org/anki). Steps, exactly:

1. read the file as UTF-8, split on ``\\n``, drop empty lines;
2. keep the English side (the text before the single ``\\t``), unchanged;
3. keep a sentence iff ``course_lib.data.word_split`` (lower-cased words and punctuation marks,
   the tokenizer the notebook uses) gives at most ``MAX_TOKENS`` = 6 tokens;
4. drop exact duplicates, keeping the first occurrence (the source order, roughly by length);
5. write one sentence per line, ``\\n`` line endings, a final newline.

It then prints the line count and the sha256 to put in data/SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course_lib.data import word_split  # noqa: E402

SOURCE = ROOT / ".." / "shared" / "data" / "eng_fra_tatoeba" / "eng-fra_max10words.txt"
TARGET = ROOT / "data" / "tatoeba_eng_short" / "eng_short.txt"
MAX_TOKENS = 6


def make_subset(source: Path = SOURCE, max_tokens: int = MAX_TOKENS) -> list[str]:
    if not source.exists():
        raise SystemExit(f"{source} is missing: this script reads the shared copy of the Tatoeba English-French pairs")
    seen: set[str] = set()
    out: list[str] = []
    for line in source.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        english = line.split("\t")[0]
        if len(word_split(english)) <= max_tokens and english not in seen:
            seen.add(english)
            out.append(english)
    return out


if __name__ == "__main__":
    sentences = make_subset()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    digest = hashlib.sha256(TARGET.read_bytes()).hexdigest()
    print(f"wrote {len(sentences)} sentences, {TARGET.stat().st_size} bytes to {TARGET.relative_to(ROOT)}")
    print(f"{digest}  tatoeba_eng_short/eng_short.txt")
