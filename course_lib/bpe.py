"""Byte-pair encoding (BPE), byte-level as in GPT-2: train the merges, encode, decode.

Defined in: notebooks/11_pretraining_finetuning.ipynb

Subword tokenization (Sennrich, Haddow & Birch 2016, "Neural Machine Translation of Rare Words with
Subword Units"), on bytes as in GPT-2 (Radford et al. 2019, §2.2):

1. **Bytes first.** Text is encoded as UTF-8, so the 256 possible bytes are the starting vocabulary:
   every string, in any script (Chinese, emoji …), can be encoded, and nothing is ever "unknown".
2. **Pre-tokenization.** The text is cut into chunks (a word with its leading space, a run of digits,
   a run of punctuation, spaces) by GPT-2's pattern; merges never cross a chunk boundary, so
   " dog" and " dog." share the token " dog".
3. **Training** repeats one step: count every adjacent pair of tokens in the corpus (each chunk
   weighted by how often it occurs), merge the most frequent pair into a new token. Ties go to the
   pair whose tokens have the smaller ids (the rule of Hugging Face ``tokenizers``, so both learn the
   same merges in the same order).
4. **Encoding** a chunk applies the learned merges in the order they were learned (lowest rank
   first), exactly as in training. **Decoding** concatenates the tokens' bytes and decodes UTF-8
   (an incomplete character, e.g. from a model's sample cut mid-character, becomes U+FFFD).

Token ids: the 256 bytes in GPT-2's order (the printable bytes ``!`` … ``~``, ``¡`` … ``¬``,
``®`` … ``ÿ`` first, then the others; GPT-2's vocabulary and ``tokenizers``' byte-level alphabet use
this order), then one id per merge, then the special tokens (``[PAD]``, ``[MASK]`` …), which text
never produces: they are inserted by code.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from .checks import check_int, check_text
from .data import Tokenizer
from .errors import ArgumentError, ArgumentTypeError

#: GPT-2's pre-tokenization pattern, written for Python's ``re`` (which has no ``\p{L}``):
#: ``[^\W\d_]`` is "a letter", ``\d`` a digit, ``(?:[^\s\w]|_)`` anything else that is not a space.
PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
_PAT = re.compile(PATTERN)


def _gpt2_byte_order() -> list[int]:
    """The 256 byte values in GPT-2's order: printable bytes first, then the others (ascending)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    return printable + [b for b in range(256) if b not in set(printable)]


BYTE_ORDER: list[int] = _gpt2_byte_order()


def gpt2_chars_to_bytes(token: str) -> bytes:
    """The bytes of a byte-level token as GPT-2 and Hugging Face ``tokenizers`` write it: every byte is
    shown as a printable character (a space is ``Ġ``, a newline ``Ċ``), so ``"Ġdog"`` → ``b" dog"``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_text(token, "token")
    unknown = sorted({c for c in token if c not in _GPT2_CHAR_TO_BYTE})
    if unknown:
        raise ArgumentError(f"token holds characters that stand for no byte in GPT-2's table: {unknown[:5]}")
    return bytes(_GPT2_CHAR_TO_BYTE[c] for c in token)


_GPT2_CHAR_TO_BYTE = {chr(b): b for b in BYTE_ORDER[:188]} | {chr(256 + n): b for n, b in enumerate(BYTE_ORDER[188:])}


def pretokenize(text: str) -> list[str]:
    """Cut text into the chunks BPE works inside: ``"I'm here!"`` → ``["I", "'m", " here", "!"]``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    return _PAT.findall(check_text(text, "text"))


def _pairs(word: Sequence[int]) -> Counter:
    return Counter(zip(word, word[1:]))


def _merge_word(word: tuple[int, ...], a: int, b: int, new: int) -> tuple[int, ...]:
    """Replace every occurrence of the pair (a, b) in ``word``, left to right, by ``new``."""
    out, i, n = [], 0, len(word)
    while i < n:
        if i + 1 < n and word[i] == a and word[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def learn_merges(
    word_counts: dict[tuple[int, ...], int], n_merges: int, min_frequency: int = 2, first_id: int = 256
) -> tuple[list[tuple[int, int]], list[int]]:
    """The BPE training loop on chunks given as id tuples with their counts.

    Returns ``(merges, counts)``: the merged pairs in order (the i-th creates id ``first_id + i``)
    and the corpus frequency of each pair when it was merged. Stops after ``n_merges`` merges or
    when no pair occurs ``min_frequency`` times. Ties: the pair with the smaller ids first.

    Pair counts are updated incrementally (only the chunks that contain the merged pair are
    recounted) and the best pair is kept in a heap, so training is fast in pure Python.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_int(n_merges, "n_merges", min=0)
    check_int(min_frequency, "min_frequency", min=1)
    check_int(first_id, "first_id", min=0)
    if not isinstance(word_counts, dict):
        raise ArgumentTypeError(f"word_counts must be a dict {{tuple of ids: count}}, got {type(word_counts).__name__}")
    for w, c in word_counts.items():
        if not isinstance(w, tuple) or any(isinstance(i, bool) or not isinstance(i, int) for i in w):
            raise ArgumentTypeError(f"word_counts keys must be tuples of integer ids, got {w!r:.60}")
        if isinstance(c, bool) or not isinstance(c, int) or c < 1:
            raise ArgumentError(f"word_counts values must be counts (integers ≥ 1), got {c!r:.60} for {w!r:.40}")
    words = [tuple(w) for w in word_counts]
    freq = [int(word_counts[w]) for w in words]
    counts: Counter = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for i, w in enumerate(words):
        for p, c in _pairs(w).items():
            counts[p] += c * freq[i]
            where.setdefault(p, set()).add(i)
    heap = [(-c, p) for p, c in counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    merged_counts: list[int] = []
    new_id = first_id
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -neg:  # stale entry: the count changed since it was pushed
            continue
        if -neg < min_frequency:
            break
        a, b = pair
        merges.append(pair)
        merged_counts.append(-neg)
        changed: set[tuple[int, int]] = set()
        for i in where.pop(pair, set()):
            old = words[i]
            if len(old) < 2:
                continue
            new = _merge_word(old, a, b, new_id)
            if new == old:
                continue
            for p, c in _pairs(old).items():
                counts[p] -= c * freq[i]
                changed.add(p)
            for p, c in _pairs(new).items():
                counts[p] += c * freq[i]
                where.setdefault(p, set()).add(i)
                changed.add(p)
            words[i] = new
        counts.pop(pair, None)
        for p in changed:
            c = counts.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                counts.pop(p, None)
        new_id += 1
    return merges, merged_counts


class BPETokenizer(Tokenizer):
    """Byte-level BPE: ``BPETokenizer.train(texts, vocab_size)``, then ``encode`` / ``decode``.

    ``merges[i] = (a, b)`` means tokens a and b merge into token ``256 + i``; ``specials`` get the
    last ids (:meth:`special_id`). Every string round-trips: ``decode(encode(s)) == s``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """

    kind = "bpe"

    def __init__(self, merges: Iterable[Sequence[int]] = (), specials: Sequence[str] = ()):
        for arg, value in (("merges", merges), ("specials", specials)):
            if isinstance(value, (str, bytes, torch.Tensor)) or not isinstance(value, Iterable):
                raise ArgumentTypeError(f"{arg} must be a list, got {type(value).__name__}")
        merges = [tuple(check_int(x, "each merge id", min=0) for x in m) for m in merges]
        self.merges: list[tuple[int, int]] = []
        self.token_bytes: list[bytes] = [bytes([b]) for b in BYTE_ORDER]
        for i, m in enumerate(merges):
            if len(m) != 2 or not all(0 <= x < 256 + i for x in m):
                raise ArgumentError(f"merge {i} must be a pair of ids below {256 + i}, got {m}")
            self.merges.append((m[0], m[1]))
            self.token_bytes.append(self.token_bytes[m[0]] + self.token_bytes[m[1]])
        self.rank: dict[tuple[int, int], int] = {m: i for i, m in enumerate(self.merges)}
        self.specials: list[str] = list(specials)
        if len(set(self.specials)) != len(self.specials) or not all(isinstance(s, str) and s for s in self.specials):
            raise ArgumentError(f"specials must be distinct non-empty strings, got {self.specials}")
        self.byte_id: dict[int, int] = {b: i for i, b in enumerate(BYTE_ORDER)}
        self._cache: dict[str, list[int]] = {}

    # -------------------------------------------------------------------------------- training
    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, specials: Sequence[str] = (), min_frequency: int = 2
    ) -> BPETokenizer:
        """Learn ``vocab_size − 256 − len(specials)`` merges from ``texts`` (fewer if pairs run out).

        Defined in: notebooks/11_pretraining_finetuning.ipynb
        """
        check_int(vocab_size, "vocab_size", min=256 + len(specials))
        chunks: Counter = Counter()
        for t in texts:
            chunks.update(pretokenize(t))
        byte_id = {b: i for i, b in enumerate(BYTE_ORDER)}
        word_counts = {tuple(byte_id[b] for b in c.encode("utf-8")): n for c, n in chunks.items()}
        merges, _ = learn_merges(word_counts, vocab_size - 256 - len(specials), min_frequency)
        return cls(merges, specials)

    # -------------------------------------------------------------------------------- ids
    @property
    def n_merges(self) -> int:
        return len(self.merges)

    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges) + len(self.specials)

    def special_id(self, name: str) -> int:
        """The id of a special token such as ``"[MASK]"``."""
        if name not in self.specials:
            raise ArgumentError(f"{name!r} is not a special token of this tokenizer; it has {self.specials}")
        return 256 + len(self.merges) + self.specials.index(name)

    def token_str(self, i: int) -> str:
        """How token ``i`` reads: its text, ``<0xE4>``-style bytes for part of a character, or a special's name."""
        i = self._ids([i])[0]
        if i >= 256 + len(self.merges):
            return self.specials[i - 256 - len(self.merges)]
        raw = self.token_bytes[i]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "".join(f"<0x{b:02X}>" for b in raw)

    # -------------------------------------------------------------------------------- encode / decode
    def _encode_chunk(self, chunk: str) -> list[int]:
        hit = self._cache.get(chunk)
        if hit is not None:
            return hit
        word = [self.byte_id[b] for b in chunk.encode("utf-8")]
        while len(word) > 1:
            ranks = [self.rank.get(p, -1) for p in zip(word, word[1:])]
            best = min((r for r in ranks if r >= 0), default=None)
            if best is None:
                break
            a, b = self.merges[best]
            word = list(_merge_word(tuple(word), a, b, 256 + best))
        if len(self._cache) < 200_000:
            self._cache[chunk] = word
        return word

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (never a special token: those are added by code)."""
        out: list[int] = []
        for chunk in pretokenize(text):
            out.extend(self._encode_chunk(chunk))
        return out

    def decode(self, ids, skip_special: bool = True) -> str:
        """Text of ``ids``; special tokens are dropped (``skip_special=False`` writes their names)."""
        parts: list[bytes] = []
        n = 256 + len(self.merges)
        for i in self._ids(ids):
            if i < n:
                parts.append(self.token_bytes[i])
            elif not skip_special:
                parts.append(self.specials[i - n].encode("utf-8"))
        return b"".join(parts).decode("utf-8", errors="replace")

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` as strings (to look at a segmentation)."""
        return [self.token_str(i) for i in self.encode(text)]

    # -------------------------------------------------------------------------------- saving
    def to_dict(self) -> dict:
        return {"type": self.kind, "merges": [list(m) for m in self.merges], "specials": list(self.specials)}

    @classmethod
    def _from_dict(cls, d: dict) -> BPETokenizer:
        if not isinstance(d.get("merges"), list) or not isinstance(d.get("specials", []), list):
            raise ArgumentError("a BPETokenizer description needs a list of merges and a list of specials")
        return cls(d["merges"], d.get("specials", []))
