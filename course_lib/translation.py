"""Machine translation, French → English: the data, its held-out split, decoding and BLEU.

Defined in: notebooks/08_translation.ipynb

* Data: the sentence pairs of the PyTorch tutorial "Translation with a Sequence to Sequence Network
  and Attention" (Tatoeba, CC BY 2.0; the tutorial's filter, original text kept), made by
  ``tools/make_translation_subset.py``; :func:`load_pairs` reads them.
* :func:`split_pairs`: a held-out split **by sentence**: pairs that share an English sentence (or a
  French one) stay on the same side, so no English sentence of the test set was seen in training.
* Tokenisation: the course's :class:`~course_lib.data.WordTokenizer` (lower-cased words and
  punctuation); the GPT reads ``french <sep> english <eos>`` with one joint vocabulary.
* :class:`Translator` decodes with :func:`~course_lib.beam_search.greedy_search` or
  :func:`~course_lib.beam_search.beam_search`, for the GRU encoder–decoder and the GPT alike.
* BLEU (Papineni et al. 2002) written out from its sufficient statistics (:func:`bleu_statistics`,
  :func:`bleu_from_statistics`) and checked against ``sacrebleu`` (Post 2018), which gives the
  reported scores and their signature; chrF (Popović 2015) from ``sacrebleu``;
  :func:`paired_bootstrap` (Koehn 2004) for confidence intervals between two systems.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sacrebleu
import torch
import torch.nn.functional as F
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from .beam_search import Hypothesis, beam_search, greedy_search
from .checks import check_float, check_instance, check_int, check_probability, check_seed, check_tensor, check_text
from .data import WordTokenizer, load_text, word_split
from .errors import ArgumentError, ArgumentTypeError, InputError
from .models.gpt import GPT
from .models.seq2seq import Seq2Seq
from .nn_utils import eval_mode

PAIRS_FILE = "eng_fra_tutorial/eng-fra_tutorial.txt"
MAX_LENGTH = 10  # the tutorial keeps pairs whose sides have fewer than 10 tokens
ENG_PREFIXES = (
    "i am ",
    "i m ",
    "he is",
    "he s ",
    "she is",
    "she s ",
    "you are",
    "you re ",
    "we are",
    "we re ",
    "they are",
    "they re ",
)
SEP = "<sep>"

# ----------------------------------------------------------------------------- the data


def tutorial_normalize(s: str) -> str:
    """The PyTorch tutorial's ``normalizeString``: lower-case, strip accents, space before ``.!?``,
    every other run of non-letters → one space.

    Defined in: notebooks/08_translation.ipynb
    """
    check_text(s, "s")
    s = "".join(c for c in unicodedata.normalize("NFD", s.lower().strip()) if unicodedata.category(c) != "Mn")
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z!?]+", r" ", s)
    return s.strip()


def tutorial_keeps(english: str, french: str) -> bool:
    """The tutorial's ``filterPair``: both sides under 10 tokens, English starting "i am", "he is", … .

    Defined in: notebooks/08_translation.ipynb
    """
    check_text(english, "english")
    check_text(french, "french")
    e, f = tutorial_normalize(english), tutorial_normalize(french)
    return len(e.split(" ")) < MAX_LENGTH and len(f.split(" ")) < MAX_LENGTH and e.startswith(ENG_PREFIXES)


@dataclass(frozen=True)
class Pair:
    """A French sentence and its English translation (original text).

    Defined in: notebooks/08_translation.ipynb
    """

    french: str
    english: str


def load_pairs(path: str = PAIRS_FILE) -> list[Pair]:
    """The bundled pairs (checksum-verified), French → English, in file order.

    Defined in: notebooks/08_translation.ipynb
    """
    pairs = []
    for n, line in enumerate(load_text(path).split("\n"), 1):
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ArgumentError(f"{path}, line {n}: expected 'English<TAB>French', got {line!r}")
        pairs.append(Pair(french=parts[1], english=parts[0]))
    return pairs


def _check_pairs(pairs) -> list[Pair]:
    if not isinstance(pairs, (list, tuple)) or not all(isinstance(p, Pair) for p in pairs):
        raise ArgumentTypeError(f"pairs must be a list of Pair(french, english), got {type(pairs).__name__}")
    return list(pairs)


def sentence_groups(pairs: Sequence[Pair]) -> list[list[int]]:
    """Indices of ``pairs`` grouped so that pairs sharing an English or a French sentence are together.

    The groups are the connected components of the graph whose nodes are sentences and whose edges
    are pairs (union–find), listed in order of their first pair.

    Defined in: notebooks/08_translation.ipynb
    """
    pairs = _check_pairs(pairs)
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        a, b = find(("en", p.english)), find(("fr", p.french))
        if a != b:
            parent[a] = b
    groups: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(find(("en", p.english)), []).append(i)
    return list(groups.values())


def split_pairs(
    pairs: Sequence[Pair], val_frac: float = 0.1, test_frac: float = 0.1, seed: int = 0
) -> dict[str, list[Pair]]:
    """Train / validation / test split by sentence: no English (or French) sentence on two sides.

    The :func:`sentence_groups` are shuffled with ``seed`` and dealt to the test set until it holds
    ``test_frac`` of the pairs, then to the validation set, the rest to training. Each side keeps
    the file order.

    Defined in: notebooks/08_translation.ipynb
    """
    val_frac = check_float(val_frac, "val_frac", min=0.0, max=0.5)
    test_frac = check_float(test_frac, "test_frac", min=0.0, max=0.5)
    seed = check_seed(seed)
    pairs = _check_pairs(pairs)
    groups = sentence_groups(pairs)
    random.Random(check_seed(seed)).shuffle(groups)
    n = len(pairs)
    side = {"test": [], "val": [], "train": []}
    for g in groups:
        if sum(map(len, side["test"])) < test_frac * n:
            side["test"].append(g)
        elif sum(map(len, side["val"])) < val_frac * n:
            side["val"].append(g)
        else:
            side["train"].append(g)
    return {k: [pairs[i] for i in sorted(i for g in v for i in g)] for k, v in side.items()}


def build_tokenizers(pairs: Sequence[Pair], min_freq: int = 1) -> tuple[WordTokenizer, WordTokenizer]:
    """French and English word vocabularies from (training) pairs: ``(source, target)``.

    Defined in: notebooks/08_translation.ipynb
    """
    pairs = _check_pairs(pairs)
    return (
        WordTokenizer.from_texts([p.french for p in pairs], min_freq=min_freq),
        WordTokenizer.from_texts([p.english for p in pairs], min_freq=min_freq),
    )


def build_joint_tokenizer(pairs: Sequence[Pair], min_freq: int = 1) -> WordTokenizer:
    """One vocabulary for the GPT: French and English words and the separator ``<sep>``.

    Defined in: notebooks/08_translation.ipynb
    """
    check_int(min_freq, "min_freq", min=1)
    pairs = _check_pairs(pairs)
    counts = Counter()
    for p in pairs:
        counts.update(word_split(p.french) + word_split(p.english))
    ranked = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
    return WordTokenizer([SEP] + ranked)


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int = 0) -> torch.Tensor:
    """Right-pad lists of ids to one LongTensor (B, T_max).

    Defined in: notebooks/08_translation.ipynb
    """
    pad_id = check_int(pad_id, "pad_id", min=-(2**63), max=2**63 - 1)
    if not isinstance(seqs, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in seqs):
        raise ArgumentTypeError(f"seqs must be a list of lists of integer ids, got {type(seqs).__name__}")
    if not seqs:
        raise ArgumentError("pad_sequences needs at least one sequence")
    for s in seqs:
        for i in s:
            check_int(i, "each id in seqs", min=-(2**63), max=2**63 - 1)
    T = max(len(s) for s in seqs)
    out = torch.full((len(seqs), max(T, 1)), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out


def seq2seq_batch(pairs: Sequence[Pair], src_tok: WordTokenizer, tgt_tok: WordTokenizer) -> dict[str, torch.Tensor]:
    """Tensors for teacher forcing: ``src`` (B, S), ``tgt_in`` = ``<bos>`` + target, ``tgt_out`` = target + ``<eos>``.

    Defined in: notebooks/08_translation.ipynb
    """
    pairs = _check_pairs(pairs)
    check_instance(src_tok, "src_tok", WordTokenizer)
    check_instance(tgt_tok, "tgt_tok", WordTokenizer)
    tgt = [tgt_tok.encode(p.english) for p in pairs]
    return {
        "src": pad_sequences([src_tok.encode(p.french) for p in pairs], src_tok.pad_id),
        "tgt_in": pad_sequences([[tgt_tok.bos_id] + t for t in tgt], tgt_tok.pad_id),
        "tgt_out": pad_sequences([t + [tgt_tok.eos_id] for t in tgt], tgt_tok.pad_id),
    }


IGNORE = -100  # F.cross_entropy's ignore_index: positions that carry no loss


def gpt_batch(pairs: Sequence[Pair], tok: WordTokenizer) -> dict[str, torch.Tensor]:
    """``french <sep> english <eos>`` as next-token data: ``x`` (B, T), ``y`` (B, T).

    The loss is on the English tokens and ``<eos>`` only: ``y`` is ``IGNORE`` (−100) wherever the
    model would be predicting the French source (it is given, not translated) and on padding.

    Defined in: notebooks/08_translation.ipynb
    """
    pairs = _check_pairs(pairs)
    check_instance(tok, "tok", WordTokenizer)
    if SEP not in tok:
        raise ArgumentError("tok must be the joint tokenizer of build_joint_tokenizer (with <sep>)")
    sep = tok.stoi[SEP]
    xs, ys = [], []
    for p in pairs:
        src, tgt = tok.encode(p.french), tok.encode(p.english)
        seq = src + [sep] + tgt + [tok.eos_id]
        xs.append(seq[:-1])
        ys.append([IGNORE] * len(src) + seq[len(src) + 1 :])
    return {"x": pad_sequences(xs, tok.pad_id), "y": pad_sequences(ys, IGNORE)}


def _check_batch(batch, keys):
    check_instance(batch, "batch", dict)
    for k in keys:
        if k not in batch:
            raise ArgumentError(f"batch must have the keys {', '.join(keys)} (as the batch functions return), no {k!r}")
        check_tensor(batch[k], f"batch[{k!r}]", dim=2, dtype="integer")


def seq2seq_loss(model: Seq2Seq, batch: dict, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy (nats per target token, padding excluded) under teacher forcing.

    Defined in: notebooks/08_translation.ipynb
    """
    check_instance(model, "model", Seq2Seq)
    _check_batch(batch, ("src", "tgt_in", "tgt_out"))
    label_smoothing = check_probability(label_smoothing, "label_smoothing")
    logits = model(batch["src"], batch["tgt_in"])  # (B, T, V)
    return F.cross_entropy(
        logits.flatten(0, 1),
        batch["tgt_out"].flatten(),
        ignore_index=model.config.pad_id,
        label_smoothing=label_smoothing,
    )


def gpt_translation_loss(model: GPT, batch: dict, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy of the GPT on the English side only (nats per target token).

    The same as ``F.cross_entropy(model(x).flatten(0, 1), y.flatten(), ignore_index=IGNORE)``, but the
    output layer (the most expensive one, V × C) runs only at the positions that carry a loss.

    Defined in: notebooks/08_translation.ipynb
    """
    check_instance(model, "model", GPT)
    _check_batch(batch, ("x", "y"))
    label_smoothing = check_probability(label_smoothing, "label_smoothing")
    x, y = batch["x"], batch["y"]
    if y.shape != x.shape:
        raise ArgumentError(f"batch['y'] must have the shape of batch['x'] {tuple(x.shape)}, got {tuple(y.shape)}")
    model._check_ids(x)
    h = model._embed(x, 0)  # (B, T, C)
    for block in model.blocks:
        h, _, _ = block(h, causal=True)
    keep = y != IGNORE  # (B, T)
    logits = model.lm_head(model.ln_f(h[keep]))  # (N, V) only where the English is predicted
    return F.cross_entropy(logits, y[keep], label_smoothing=label_smoothing)


# ----------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class Translation:
    """A decoded translation: the text, its tokens, its total log-probability and ranking score.

    Defined in: notebooks/08_translation.ipynb
    """

    text: str
    tokens: tuple[str, ...]
    score: float
    ranking: float
    finished: bool


class Translator:
    """Decode French sentences with a trained model: the GRU :class:`~course_lib.models.seq2seq.Seq2Seq`
    (``src_tok`` French, ``tgt_tok`` English) or the :class:`~course_lib.models.gpt.GPT` (one joint
    tokenizer for both).

    ``translate(sentences, beam_size=1, length_penalty=0.0, n_best=1)`` returns, per sentence, a
    list of :class:`Translation`. ``beam_size=1`` is greedy decoding. The GPT is decoded in groups of
    sources of equal length, so its prompts need no padding.

    Defined in: notebooks/08_translation.ipynb
    """

    def __init__(self, model, src_tok: WordTokenizer, tgt_tok: WordTokenizer | None = None, max_len: int = 20):
        if not isinstance(model, (Seq2Seq, GPT)):
            raise ArgumentTypeError(f"Translator needs a Seq2Seq or a GPT, got {type(model).__name__}")
        self.model = model
        self.kind = "gpt" if isinstance(model, GPT) else "seq2seq"
        self.src_tok = check_instance(src_tok, "src_tok", WordTokenizer)
        self.tgt_tok = check_instance(tgt_tok, "tgt_tok", WordTokenizer) if tgt_tok is not None else src_tok
        self.max_len = check_int(max_len, "max_len", min=1)
        if self.kind == "gpt" and SEP not in self.src_tok:
            raise ArgumentError("a GPT translator needs the joint tokenizer of build_joint_tokenizer (with <sep>)")

    def unknown_words(self, sentence: str) -> list[str]:
        """Words of ``sentence`` that the source vocabulary does not have."""
        return [w for w in self.src_tok.tokenize(sentence) if w not in self.src_tok]

    def encode_source(self, sentence: str) -> list[int]:
        ids = self.src_tok.encode(sentence)
        if not ids:
            raise InputError("the sentence has no words: type a French sentence")
        return ids

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.tgt_tok.decode(list(ids))

    def _search(self, step, state, n, bos, beam_size, length_penalty, n_best, max_len):
        eos = self.tgt_tok.eos_id
        if beam_size == 1:
            return [[h] for h in greedy_search(step, state, n, bos, eos, max_len)]
        return beam_search(step, state, n, bos, eos, max_len, beam_size, length_penalty, n_best)

    @torch.no_grad()
    def translate(
        self,
        sentences: Sequence[str],
        beam_size: int = 1,
        length_penalty: float = 0.0,
        n_best: int = 1,
        batch_size: int = 256,
    ) -> list[list[Translation]]:
        beam_size = check_int(beam_size, "beam_size", min=1)
        n_best = check_int(n_best, "n_best", min=1, max=beam_size)
        batch_size = check_int(batch_size, "batch_size", min=1)
        ids = [self.encode_source(s) for s in sentences]
        results: list[list[Hypothesis]] = [[] for _ in ids]
        with eval_mode(self.model):
            if self.kind == "seq2seq":
                order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
                groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
            else:  # equal-length prompts: no padding inside a group
                by_len: dict[int, list[int]] = {}
                for i, s in enumerate(ids):
                    by_len.setdefault(len(s), []).append(i)
                groups = [
                    g[i : i + batch_size] for _, g in sorted(by_len.items()) for i in range(0, len(g), batch_size)
                ]
            for g in groups:
                hyps = self._decode_group([ids[i] for i in g], beam_size, length_penalty, n_best)
                for i, h in zip(g, hyps):
                    results[i] = h
        return [
            [
                Translation(
                    self.detokenize(h.tokens),
                    tuple(self.tgt_tok.itos[t] for t in h.tokens),
                    h.score,
                    h.ranking,
                    h.finished,
                )
                for h in hs
            ]
            for hs in results
        ]

    def _decode_group(self, group: list[list[int]], beam_size, length_penalty, n_best):
        model = self.model
        if self.kind == "seq2seq":
            state = model.encode(pad_sequences(group, self.src_tok.pad_id))

            def step(tokens, state):
                logits, state, _ = model.step(tokens, state)
                return torch.log_softmax(logits.float(), -1), state

            return self._search(
                step, state, len(group), self.tgt_tok.bos_id, beam_size, length_penalty, n_best, self.max_len
            )
        src = torch.tensor(group, dtype=torch.long)  # (B, S): all the same length
        _, cache = model.forward_step(src, None)  # the French prompt; <sep> is fed as the first token

        def step(tokens, cache):
            logits, cache = model.forward_step(tokens[:, None], cache)
            return torch.log_softmax(logits[:, -1].float(), -1), cache

        room = model.config.block_size - src.size(1)  # prompt + <sep> + generated tokens must fit the context
        return self._search(
            step, cache, len(group), self.src_tok.stoi[SEP], beam_size, length_penalty, n_best, min(self.max_len, room)
        )

    @torch.no_grad()
    def attention(self, sentence: str, translation_tokens: Sequence[str]) -> torch.Tensor:
        """Attention weights (T_out + 1, S) of the GRU with attention while it writes ``translation_tokens``
        then ``<eos>`` (teacher forcing on the given translation).

        Defined in: notebooks/08_translation.ipynb
        """
        if self.kind != "seq2seq" or self.model.attn is None:
            raise ArgumentError("only the GRU encoder–decoder with attention has an alignment to show")
        src = torch.tensor([self.encode_source(sentence)])
        tgt = [self.tgt_tok.stoi.get(w, self.tgt_tok.unk_id) for w in translation_tokens]
        tgt_in = torch.tensor([[self.tgt_tok.bos_id] + tgt])
        with eval_mode(self.model):
            _, weights = self.model(src, tgt_in, return_attention=True)
        return weights[0]  # (T_out + 1, S)


# ----------------------------------------------------------------------------- BLEU and chrF


def _tok13a(s: str) -> list[str]:
    return Tokenizer13a()(s.lower().rstrip()).split()


def bleu_statistics(hypothesis: str, reference: str, max_n: int = 4) -> np.ndarray:
    """BLEU's sufficient statistics for one sentence: ``[hyp_len, ref_len, matches_1..4, totals_1..4]``.

    Both sides are lower-cased and tokenised as ``sacrebleu`` does (its 13a tokenizer).
    ``matches_n`` counts the hypothesis n-grams found in the reference, each at most as often as
    it occurs there (clipped counts); ``totals_n`` counts the hypothesis n-grams.

    Defined in: notebooks/08_translation.ipynb
    """
    hyp, ref = _tok13a(check_text(hypothesis, "hypothesis")), _tok13a(check_text(reference, "reference"))
    max_n = check_int(max_n, "max_n", min=1, max=4)
    stats = [len(hyp), len(ref)]
    matches, totals = [], []
    for n in range(1, max_n + 1):
        h = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
        matches.append(sum(min(c, r[g]) for g, c in h.items()))
        totals.append(sum(h.values()))
    return np.array(stats + matches + totals, dtype=np.int64)


def _check_stats(stats, name: str, shape: tuple) -> np.ndarray:
    """BLEU statistics as a float array of the given shape (``None`` = any length), counts ≥ 0."""
    if not isinstance(stats, (np.ndarray, list, tuple)):
        raise ArgumentTypeError(f"{name} must be an array of bleu_statistics counts, got {type(stats).__name__}")
    arr = np.asarray(stats)
    if arr.dtype.kind not in "iuf" or arr.ndim != len(shape) or any(s and s != n for s, n in zip(shape, arr.shape)):
        want = "(" + ", ".join(str(s) if s else "N" for s in shape) + ")"
        raise ArgumentError(
            f"{name} must be numbers of shape {want} (see bleu_statistics), got {arr.dtype} {arr.shape}"
        )
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ArgumentError(f"{name} must hold counts ≥ 0 (see bleu_statistics)")
    return arr


def bleu_from_statistics(stats: np.ndarray) -> float:
    """Corpus BLEU (0–100) from summed statistics: brevity penalty × geometric mean of the 4 precisions.

    BLEU = BP · exp(¼ Σ_n log p_n), p_n = matches_n / totals_n, BP = min(1, exp(1 − ref_len / hyp_len)).
    A precision with no match is smoothed as mteval (and sacrebleu's default ``exp``) do: the k-th
    such precision becomes 1 / (2^k · totals_n).

    Defined in: notebooks/08_translation.ipynb
    """
    stats = _check_stats(stats, "stats", (10,))
    hyp_len, ref_len, matches, totals = stats[0], stats[1], stats[2:6], stats[6:10]
    if not matches.any():
        return 0.0
    bp = 1.0 if hyp_len >= ref_len else (float(np.exp(1 - ref_len / hyp_len)) if hyp_len > 0 else 0.0)
    logs, k = [], 1.0
    for m, t in zip(matches, totals):
        if t == 0:
            logs.append(-9999999999.0)  # sacrebleu's log(0)
            continue
        if m == 0:
            k *= 2
            logs.append(np.log(1.0 / (k * t)))
        else:
            logs.append(np.log(m / t))
    return float(100 * bp * np.exp(sum(logs) / 4))


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]):
    """``sacrebleu``'s corpus BLEU (lower-cased, 13a tokenisation, one reference per sentence).

    Returns the ``BLEUScore`` (``.score``, ``.sys_len``, ``.ref_len`` …) and the signature string.

    Defined in: notebooks/08_translation.ipynb
    """
    _check_corpus(hypotheses, references)
    metric = sacrebleu.BLEU(lowercase=True)
    score = metric.corpus_score(list(hypotheses), [list(references)])
    return score, str(metric.get_signature())


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[str]):
    """``sacrebleu``'s chrF (character n-gram F-score, Popović 2015) and its signature.

    Defined in: notebooks/08_translation.ipynb
    """
    _check_corpus(hypotheses, references)
    metric = sacrebleu.CHRF(lowercase=True)
    score = metric.corpus_score(list(hypotheses), [list(references)])
    return score, str(metric.get_signature())


def _check_corpus(hypotheses, references):
    for name, sentences in (("hypotheses", hypotheses), ("references", references)):
        if not isinstance(sentences, (list, tuple)) or not all(isinstance(s, str) for s in sentences):
            raise ArgumentTypeError(f"{name} must be a list of sentences (strings), got {type(sentences).__name__}")
    if len(hypotheses) != len(references) or not hypotheses:
        raise ArgumentError(
            f"need as many hypotheses as references (and at least one), got {len(hypotheses)} and {len(references)}"
        )


def paired_bootstrap(
    stats_a: np.ndarray, stats_b: np.ndarray, n_samples: int = 1000, seed: int = 0
) -> dict[str, float]:
    """Paired bootstrap resampling (Koehn 2004) of two systems' BLEU on the same test sentences.

    ``stats_a``, ``stats_b``: per-sentence :func:`bleu_statistics`, shape (N, 10). Each resample draws
    N sentence indices with replacement (the same indices for both systems) and recomputes corpus
    BLEU. Returns each system's BLEU and 95% percentile interval, the interval of the difference
    a − b, and the share of resamples in which a scores higher.

    Defined in: notebooks/08_translation.ipynb
    """
    a, b = _check_stats(stats_a, "stats_a", (None, 10)), _check_stats(stats_b, "stats_b", (None, 10))
    if a.shape != b.shape or not len(a):
        raise ArgumentError(f"stats_a and stats_b must both have shape (N, 10), got {a.shape} and {b.shape}")
    n_samples = check_int(n_samples, "n_samples", min=10)
    rng = np.random.default_rng(check_seed(seed))
    idx = rng.integers(0, len(a), size=(n_samples, len(a)))
    sa = np.array([bleu_from_statistics(a[i].sum(0)) for i in idx])
    sb = np.array([bleu_from_statistics(b[i].sum(0)) for i in idx])
    d = sa - sb
    lo, hi = 2.5, 97.5
    return {
        "bleu_a": bleu_from_statistics(a.sum(0)),
        "bleu_b": bleu_from_statistics(b.sum(0)),
        "a_lo": float(np.percentile(sa, lo)),
        "a_hi": float(np.percentile(sa, hi)),
        "b_lo": float(np.percentile(sb, lo)),
        "b_hi": float(np.percentile(sb, hi)),
        "diff": bleu_from_statistics(a.sum(0)) - bleu_from_statistics(b.sum(0)),
        "diff_lo": float(np.percentile(d, lo)),
        "diff_hi": float(np.percentile(d, hi)),
        "p_a_better": float((d > 0).mean()),
    }
