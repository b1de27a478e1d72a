"""Bundled data: checksum-verified loading, tokenizers, splits and language-model batches.

Defined in: notebooks/01_background_ngram.ipynb

Every file under ``data/`` is listed in ``data/SHA256SUMS`` (``sha256sum -c`` format). Loading a file
checks its hash first, so a missing or damaged file fails with a message that names the file and
says how to restore it, instead of a model silently training on garbage.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

import torch

from .checks import check_flag, check_float, check_int, check_path, check_tensor, check_text
from .config import DATA_DIR, SHA256SUMS
from .errors import ArgumentError, ArgumentTypeError, DataFileError  # noqa: F401  (DataFileError: re-exported)


def _check_device(device, name: str = "device") -> torch.device | None:
    """None, or a device given as a name (``"cpu"``, ``"cuda:0"``) or a ``torch.device``."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise ArgumentTypeError(
            f"{name} must be None, a device name such as 'cpu' or a torch.device, got {device!r:.60}"
        )
    try:
        return torch.device(device)
    except RuntimeError:
        raise ArgumentError(f"{name} must name a device such as 'cpu' or 'cuda', got {device!r:.60}") from None


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks.

    Defined in: notebooks/00_start_here.ipynb
    """
    path = check_path(path, "path")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_checksums(sums_file: str | Path = SHA256SUMS) -> dict[str, str]:
    """Parse ``data/SHA256SUMS``: a dict from path (relative to ``data/``) to expected hex digest.

    Defined in: notebooks/00_start_here.ipynb
    """
    sums_file = check_path(sums_file, "sums_file", must_exist=False)
    if not sums_file.exists():
        raise DataFileError(
            f"{sums_file} is missing: it lists the expected hash of every data file. "
            "Restore it with `git checkout -- data/SHA256SUMS` or re-clone the course."
        )
    if not sums_file.is_file():
        raise ArgumentError(f"sums_file {str(sums_file)!r} is not a file (it is a directory or a special file)")
    try:
        text = sums_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataFileError(
            f"{sums_file} is not UTF-8 text: it is damaged. Restore it with `git checkout -- data/SHA256SUMS`."
        ) from None
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
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
    p = check_path(path, "path", must_exist=False)
    if not p.is_absolute():
        p = DATA_DIR / p
    rel = _relative_to_data(p)
    shown = f"data/{rel}"
    if not p.exists():
        raise DataFileError(
            f"{shown} is missing. It ships with the course: restore it with "
            f"`git checkout -- {shown}` (or re-clone the repository)."
        )
    if not p.is_file():
        raise DataFileError(
            f"{shown} should be a file but is a directory (or a special file): remove it and "
            f"restore the file with `git checkout -- {shown}`."
        )
    expected = read_checksums().get(rel)
    if expected is None:
        raise DataFileError(
            f"{shown} is not listed in data/SHA256SUMS, so it cannot be verified. "
            "Add its line with `sha256sum` (see data/README.md)."
        )
    actual = sha256_file(p)  # every time: a file edited in place must never be served unchecked
    if actual != expected:
        raise DataFileError(_corrupted_message(p, shown, actual, expected))
    return p


def _corrupted_message(p: Path, shown: str, actual: str, expected: str) -> str:
    raw = p.read_bytes()
    if b"\r\n" in raw and hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest() == expected:
        return (
            f"{shown} has Windows line endings (CRLF): git converted it on checkout (core.autocrlf). "
            "The repository's .gitattributes keeps data files byte-exact; re-checkout the data, from the "
            "repository's folder: `git rm -r -q --cached data` then `git checkout HEAD -- data`."
        )
    return (
        f"{shown} is corrupted: its sha256 is {actual[:16]}…, expected {expected[:16]}… "
        f"(data/SHA256SUMS). Restore it with `git checkout -- {shown}`."
    )


def update_checksums(paths: Iterable[str | Path], sums_file: str | Path = SHA256SUMS) -> None:
    """Replace (or add) the ``data/SHA256SUMS`` lines of ``paths`` (files inside ``data/``), keeping the rest.

    Scripts that write checkpoints or data subsets call it, so the loaders accept what they wrote.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if isinstance(paths, (str, Path, bytes)) or not isinstance(paths, Iterable):
        raise ArgumentTypeError(f"paths must be a list of file paths inside data/, got {type(paths).__name__}")
    paths = [check_path(p, "paths") for p in paths]
    rels = {_relative_to_data(p): p for p in paths}
    sums_file = check_path(sums_file, "sums_file", must_exist=False)
    lines = sums_file.read_text(encoding="utf-8").splitlines() if sums_file.exists() else []
    kept = [ln for ln in lines if not any(ln.endswith("  " + r) or ln.endswith(" *" + r) for r in rels)]
    kept += [f"{sha256_file(p)}  {r}" for r, p in sorted(rels.items())]
    tmp = sums_file.with_suffix(".tmp")
    tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
    os.replace(tmp, sums_file)


def load_text(path: str | Path) -> str:
    """Verify and read a UTF-8 text file from ``data/``.

    Defined in: notebooks/03_context_representation.ipynb
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
    train_frac = check_float(train_frac, "train_frac", min=0.0, max=1.0, min_open=True, max_open=True)
    if isinstance(seq, (dict, set)) or not hasattr(seq, "__len__") or not hasattr(seq, "__getitem__"):
        raise ArgumentTypeError(f"seq must be a sequence (a list, string, array or tensor), got {type(seq).__name__}")
    if isinstance(seq, torch.Tensor) and seq.dim() == 0:
        raise ArgumentError("seq must be a sequence, got a 0-dimensional tensor")
    n = int(len(seq) * train_frac)
    return seq[:n], seq[n:]


def get_lm_batch(
    data: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator | None = None, device=None
):
    """Random contiguous blocks for next-token prediction.

    ``data`` is a 1-D tensor of token ids. Returns ``x, y`` of shape (B, T) where ``y`` is ``x``
    shifted by one token: ``y[b, t] = data[start_b + t + 1]``.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if not isinstance(data, torch.Tensor) or data.dim() != 1:
        raise ArgumentError(
            f"data must be a 1-D tensor of token ids, got {type(data).__name__} "
            f"with shape {tuple(getattr(data, 'shape', ()))}"
        )
    check_tensor(data, "data", dtype="integer")
    block_size = check_int(block_size, "block_size", min=1)
    batch_size = check_int(batch_size, "batch_size", min=1, max=1_000_000)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ArgumentTypeError(f"generator must be None or a torch.Generator, got {type(generator).__name__}")
    device = _check_device(device)
    if len(data) < block_size + 1:
        raise ArgumentError(f"data has {len(data)} tokens; block_size={block_size} needs at least {block_size + 1}")
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    x = data[starts[:, None] + offsets]  # (B, T)
    y = data[starts[:, None] + offsets + 1]  # (B, T)
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y


class Tokenizer:
    """Base class of the course's tokenizers: text ↔ integer ids, saved and loaded as JSON.

    A subclass sets ``kind`` (the ``"type"`` written by :meth:`to_dict`) and implements
    :meth:`encode`, :meth:`decode`, :meth:`to_dict`, :meth:`_from_dict` and ``vocab_size``.
    ``Tokenizer.load(path)`` reads any of them back (the ``"type"`` picks the class).

    Defined in: notebooks/01_background_ngram.ipynb
    """

    kind: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type[Tokenizer]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Tokenizer._registry[cls.kind] = cls

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def _from_dict(cls, d: dict) -> Tokenizer:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict) -> Tokenizer:
        """Rebuild a tokenizer from :meth:`to_dict`'s output (checked: a damaged vocabulary fails here)."""
        if not isinstance(d, dict) or "type" not in d:
            raise ArgumentError(f"a tokenizer description is a dict with a 'type' entry, got {type(d).__name__}")
        target = Tokenizer._registry.get(d["type"])
        if target is None or not issubclass(target, cls):
            raise ArgumentError(f"not a {cls.__name__} description: type={d.get('type')!r}")
        return target._from_dict(d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ArgumentError(f"{path} is not a saved tokenizer (invalid JSON: {e})") from None
        return cls.from_dict(d)

    def _ids(self, ids) -> list[int]:
        """Token ids as a list of ints, refusing floats and ids outside the vocabulary."""
        if isinstance(ids, torch.Tensor):
            check_tensor(ids, "ids", dtype="integer")
            ids = ids.reshape(-1).tolist()
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                raise ArgumentTypeError(f"ids must be integers, got {i!r} ({type(i).__name__})")
            out.append(int(i))
        bad = [i for i in out if not 0 <= i < self.vocab_size]
        if bad:
            raise ArgumentError(f"ids out of range 0..{self.vocab_size - 1}: {bad[:5]}")
        return out


class CharTokenizer(Tokenizer):
    """Characters ↔ integer ids. The vocabulary is the sorted set of characters seen.

    ``unk``: an optional character (added to the vocabulary) that unknown characters map to.
    Without it, encoding an unknown character raises a ``ValueError`` that lists the culprits.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    kind = "char"

    def __init__(self, chars: Iterable[str], unk: str | None = None):
        if isinstance(chars, (bytes, torch.Tensor)) or not isinstance(chars, Iterable):
            raise ArgumentTypeError(f"chars must be a string or a list of characters, got {type(chars).__name__}")
        chars = list(chars)
        if unk is not None:
            check_text(unk, "unk")
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ArgumentError(f"CharTokenizer expects single characters, got {bad[:5]}")
        chars = sorted(set(chars) | ({unk} if unk is not None else set()))
        if not chars:
            raise ArgumentError("CharTokenizer needs at least one character")
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ArgumentError(f"CharTokenizer expects single characters, got {bad[:5]}")
        self.itos: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}
        self.unk = unk

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> CharTokenizer:
        return cls(set(check_text(text, "text")), unk=unk)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` that are not in the vocabulary (sorted, without repeats)."""
        return sorted({c for c in check_text(text, "text") if c not in self.stoi})

    def encode(self, text: str) -> list[int]:
        check_text(text, "text")
        if self.unk is not None:
            u = self.stoi[self.unk]
            return [self.stoi.get(c, u) for c in text]
        missing = self.unknown(text)
        if missing:
            raise ArgumentError(
                f"characters not in the vocabulary: {''.join(missing)!r} "
                f"(the vocabulary has {self.vocab_size} characters: {''.join(self.itos)!r})"
            )
        return [self.stoi[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.itos[i] for i in self._ids(ids))

    def to_dict(self) -> dict:
        return {"type": self.kind, "itos": self.itos, "unk": self.unk}

    @classmethod
    def _from_dict(cls, d: dict) -> CharTokenizer:
        tok = cls(d["itos"], unk=d.get("unk"))
        if tok.itos != list(d["itos"]):
            raise ArgumentError("a CharTokenizer vocabulary must be sorted and without repeats")
        return tok


_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S")


def word_split(text: str, lower: bool = True) -> list[str]:
    """Split text into words and punctuation marks: ``"Don't stop!"`` → ``["don't", "stop", "!"]``.

    A word is a run of letters or digits in any script (``"café"`` stays one word), with inner
    apostrophes; every other non-space character is a token of its own.

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_text(text, "text")
    if check_flag(lower, "lower"):
        text = text.lower()
    return _WORD_RE.findall(text)


class WordTokenizer(Tokenizer):
    """Words ↔ integer ids with special tokens ``<pad>`` (id 0), ``<unk>``, ``<bos>``, ``<eos>``.

    Built from a corpus with ``WordTokenizer.from_texts(texts, min_freq=..., max_size=...)``;
    words outside the vocabulary are encoded as ``<unk>``.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    kind = "word"
    PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
    SPECIALS = (PAD, UNK, BOS, EOS)

    def __init__(self, words: Iterable[str], lower: bool = True):
        if isinstance(words, (str, bytes)) or not isinstance(words, Iterable) or isinstance(words, torch.Tensor):
            raise ArgumentTypeError(f"words must be a list of strings, got {type(words).__name__}")
        words = [check_text(w, "each word") for w in words]
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
    def from_texts(
        cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None, lower: bool = True
    ) -> WordTokenizer:
        check_int(min_freq, "min_freq", min=1)
        counts = Counter()
        for t in texts:
            counts.update(word_split(t, lower=lower))
        ranked = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[: max(0, check_int(max_size, "max_size", min=0) - len(cls.SPECIALS))]
        return cls(ranked, lower=lower)

    @property
    def vocab_size(self) -> int:
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
        ids = [self.stoi.get(w, self.unk_id) for w in self.tokenize(text)]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids, skip_special: bool = True) -> str:
        words = [
            self.itos[i]
            for i in self._ids(ids)
            if not (skip_special and self.itos[i] in (self.PAD, self.BOS, self.EOS))
        ]
        text = " ".join(words)
        return re.sub(r" ([.,!?;:')])", r"\1", text)

    def to_dict(self) -> dict:
        return {"type": self.kind, "itos": self.itos, "lower": self.lower}

    @classmethod
    def _from_dict(cls, d: dict) -> WordTokenizer:
        itos = list(d["itos"])
        if itos[: len(cls.SPECIALS)] != list(cls.SPECIALS):
            raise ArgumentError(f"a WordTokenizer vocabulary must start with {cls.SPECIALS}")
        dupes = sorted({w for w in itos if itos.count(w) > 1}) if len(set(itos)) != len(itos) else []
        if dupes:
            raise ArgumentError(f"a WordTokenizer vocabulary must not repeat words (ids would shift): {dupes[:5]}")
        return cls(itos[len(cls.SPECIALS) :], lower=d.get("lower", True))
