"""Bundled data: checksum-verified loading, tokenizers, splits and language-model batches.

Defined in: notebooks/01_background_ngram.ipynb

Every file under ``data/`` is listed in ``data/SHA256SUMS`` (``sha256sum -c`` format). Loading a file
checks its hash first, so a missing or damaged file fails with a message that names the file and
says how to restore it, instead of a model silently training on garbage.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import torch

from .config import DATA_DIR, SHA256SUMS


class DataFileError(RuntimeError):
    """A bundled data file is missing, corrupted or not listed in ``data/SHA256SUMS``.

    Defined in: notebooks/00_start_here.ipynb
    """


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks.

    Defined in: notebooks/00_start_here.ipynb
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_checksums(sums_file: str | Path = SHA256SUMS) -> dict[str, str]:
    """Parse ``data/SHA256SUMS``: a dict from path (relative to ``data/``) to expected hex digest.

    Defined in: notebooks/00_start_here.ipynb
    """
    sums_file = Path(sums_file)
    if not sums_file.exists():
        raise DataFileError(f"{sums_file} is missing: it lists the expected hash of every data file. "
                            "Restore it with `git checkout -- data/SHA256SUMS` or re-clone the course.")
    out = {}
    for n, line in enumerate(sums_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip())
        if not m:
            raise DataFileError(f"{sums_file}, line {n}: expected '<64 hex digits>  <path>', got {line!r}")
        out[m.group(2)] = m.group(1)
    return out


def _relative_to_data(path: Path) -> str:
    try:
        return path.resolve().relative_to(DATA_DIR.resolve()).as_posix()
    except ValueError:
        raise DataFileError(f"{path} is not inside the course's data folder {DATA_DIR}") from None


def verify_file(path: str | Path) -> Path:
    """Check a data file against ``data/SHA256SUMS`` and return its absolute path.

    ``path`` is relative to ``data/`` (e.g. ``"tinyshakespeare/input.txt"``) or absolute.
    Raises :class:`DataFileError` naming the file when it is missing, unlisted or corrupted.

    Defined in: notebooks/00_start_here.ipynb
    """
    p = Path(path)
    if not p.is_absolute():
        p = DATA_DIR / p
    rel = _relative_to_data(p)
    shown = f"data/{rel}"
    if not p.exists():
        raise DataFileError(f"{shown} is missing. It ships with the course: restore it with "
                            f"`git checkout -- {shown}` (or re-clone the repository).")
    expected = read_checksums().get(rel)
    if expected is None:
        raise DataFileError(f"{shown} is not listed in data/SHA256SUMS, so it cannot be verified. "
                            "Add its line with `sha256sum` (see data/README.md).")
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    actual = _HASH_CACHE.get(key) or sha256_file(p)
    if actual != expected:
        raise DataFileError(f"{shown} is corrupted: its sha256 is {actual[:16]}…, expected {expected[:16]}… "
                            f"(data/SHA256SUMS). Restore it with `git checkout -- {shown}`.")
    _HASH_CACHE[key] = actual
    return p


def load_text(path: str | Path) -> str:
    """Verify and read a UTF-8 text file from ``data/``.

    Defined in: notebooks/00_start_here.ipynb
    """
    p = verify_file(path)
    return p.read_text(encoding="utf-8")


def load_shakespeare() -> str:
    """The Tiny Shakespeare corpus (1,115,394 characters; public domain, via karpathy/char-rnn).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    return load_text("tinyshakespeare/input.txt")


def train_val_split(seq: Sequence, train_frac: float = 0.9):
    """Split a sequence in order: the first ``train_frac`` for training, the rest for validation.

    Every language model in the course uses ``train_frac=0.9`` on Tiny Shakespeare, so their
    validation losses are measured on the same last 10% of the text and can be compared.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if not 0.0 < train_frac < 1.0:
        raise ValueError(f"train_frac must be strictly between 0 and 1, got {train_frac}")
    n = int(len(seq) * train_frac)
    return seq[:n], seq[n:]


def get_lm_batch(data: torch.Tensor, block_size: int, batch_size: int,
                 generator: torch.Generator | None = None, device=None):
    """Random contiguous blocks for next-token prediction.

    ``data`` is a 1-D tensor of token ids. Returns ``x, y`` of shape (B, T) where ``y`` is ``x``
    shifted by one token: ``y[b, t] = data[start_b + t + 1]``.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if not isinstance(data, torch.Tensor) or data.dim() != 1:
        raise ValueError(f"data must be a 1-D tensor of token ids, got {type(data).__name__} "
                         f"with shape {tuple(getattr(data, 'shape', ()))}")
    if len(data) < block_size + 1:
        raise ValueError(f"data has {len(data)} tokens; a block of {block_size} needs at least {block_size + 1}")
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    x = data[starts[:, None] + offsets]  # (B, T)
    y = data[starts[:, None] + offsets + 1]  # (B, T)
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y


class CharTokenizer:
    """Characters ↔ integer ids. The vocabulary is the sorted set of characters seen.

    ``unk``: an optional character (added to the vocabulary) that unknown characters map to.
    Without it, encoding an unknown character raises a ``ValueError`` that lists the culprits.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    def __init__(self, chars: Iterable[str], unk: str | None = None):
        chars = sorted(set(chars) | ({unk} if unk is not None else set()))
        if not chars:
            raise ValueError("CharTokenizer needs at least one character")
        bad = [c for c in chars if len(c) != 1]
        if bad:
            raise ValueError(f"CharTokenizer expects single characters, got {bad[:5]}")
        self.itos: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}
        self.unk = unk

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> "CharTokenizer":
        return cls(set(text), unk=unk)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` that are not in the vocabulary (sorted, without repeats)."""
        return sorted({c for c in text if c not in self.stoi})

    def encode(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        if self.unk is not None:
            u = self.stoi[self.unk]
            return [self.stoi.get(c, u) for c in text]
        missing = self.unknown(text)
        if missing:
            raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r} "
                             f"(the vocabulary has {self.vocab_size} characters: {''.join(self.itos)!r})")
        return [self.stoi[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        ids = [int(i) for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids)]
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"ids out of range 0..{self.vocab_size - 1}: {bad[:5]}")
        return "".join(self.itos[i] for i in ids)

    def to_dict(self) -> dict:
        return {"type": "char", "itos": self.itos, "unk": self.unk}

    @classmethod
    def from_dict(cls, d: dict) -> "CharTokenizer":
        if d.get("type") != "char":
            raise ValueError(f"not a CharTokenizer description: type={d.get('type')!r}")
        tok = cls(d["itos"], unk=d.get("unk"))
        if tok.itos != list(d["itos"]):
            raise ValueError("CharTokenizer vocabulary must be sorted and without repeats")
        return tok

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "CharTokenizer":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?|[^\sA-Za-z0-9]")


def word_split(text: str, lower: bool = True) -> list[str]:
    """Split text into words and punctuation marks: ``"Don't stop!"`` → ``["don't", "stop", "!"]``.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if lower:
        text = text.lower()
    return _WORD_RE.findall(text)


class WordTokenizer:
    """Words ↔ integer ids with special tokens ``<pad>`` (id 0), ``<unk>``, ``<bos>``, ``<eos>``.

    Built from a corpus with ``WordTokenizer.from_texts(texts, min_freq=..., max_size=...)``;
    words outside the vocabulary are encoded as ``<unk>``.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
    SPECIALS = (PAD, UNK, BOS, EOS)

    def __init__(self, words: Iterable[str], lower: bool = True):
        itos = list(self.SPECIALS)
        seen = set(itos)
        for w in words:
            if w not in seen:
                itos.append(w)
                seen.add(w)
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(itos)}
        self.lower = lower

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None,
                   lower: bool = True) -> "WordTokenizer":
        counts = Counter()
        for t in texts:
            counts.update(word_split(t, lower=lower))
        ranked = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(cls.SPECIALS))]
        return cls(ranked, lower=lower)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def pad_id(self) -> int:
        return self.stoi[self.PAD]

    @property
    def unk_id(self) -> int:
        return self.stoi[self.UNK]

    @property
    def bos_id(self) -> int:
        return self.stoi[self.BOS]

    @property
    def eos_id(self) -> int:
        return self.stoi[self.EOS]

    def __contains__(self, word: str) -> bool:
        return word in self.stoi

    def tokenize(self, text: str) -> list[str]:
        return word_split(text, lower=self.lower)

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        ids = [self.stoi.get(w, self.unk_id) for w in self.tokenize(text)]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        ids = [int(i) for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids)]
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"ids out of range 0..{self.vocab_size - 1}: {bad[:5]}")
        words = [self.itos[i] for i in ids
                 if not (skip_special and self.itos[i] in (self.PAD, self.BOS, self.EOS))]
        text = " ".join(words)
        return re.sub(r" ([.,!?;:')])", r"\1", text)

    def to_dict(self) -> dict:
        return {"type": "word", "itos": self.itos, "lower": self.lower}

    @classmethod
    def from_dict(cls, d: dict) -> "WordTokenizer":
        if d.get("type") != "word":
            raise ValueError(f"not a WordTokenizer description: type={d.get('type')!r}")
        if list(d["itos"][: len(cls.SPECIALS)]) != list(cls.SPECIALS):
            raise ValueError(f"a WordTokenizer vocabulary must start with {cls.SPECIALS}")
        return cls(d["itos"][len(cls.SPECIALS):], lower=d.get("lower", True))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "WordTokenizer":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
