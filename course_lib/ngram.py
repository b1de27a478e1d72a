"""A count-based character n-gram language model with interpolated Kneser–Ney smoothing.

Defined in: notebooks/01_background_ngram.ipynb

This is §1's "statistical language model": P(next char | previous n−1 chars) estimated from
counts. Interpolated Kneser–Ney (Kneser & Ney 1995; Chen & Goodman 1999, eq. 17) subtracts a
discount D from every seen count and gives the freed probability mass to the next-lower order,
whose counts are *continuation* counts (in how many distinct contexts a string appears). The
lowest order is interpolated with the uniform distribution, so no character ever gets
probability zero.

    P_k(w | h) = max(c_k(h w) − D_k, 0) / c_k(h)  +  D_k · N1+(h •) / c_k(h) · P_{k−1}(w | h')

where h' drops the oldest character of h, c_k are raw counts at the highest order and
continuation counts below it, and N1+(h •) is the number of distinct characters seen after h.
When h was never seen, P_k(w | h) = P_{k−1}(w | h').

Counting is vectorised: every k-gram is packed into one int64 code (newest character in the
lowest digit), counted with ``np.unique`` and looked up with ``np.searchsorted``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .checks import check_float, check_instance, check_int, check_seed, require_text
from .errors import ArgumentError, ArgumentTypeError, InputError

#: ngram_sample_text writes at most this many characters (one model query each).
MAX_SAMPLE_CHARS = 2000


@dataclass
class _Table:
    codes: np.ndarray  # sorted unique k-gram codes
    counts: np.ndarray  # count of each k-gram (raw or continuation)
    ctx_codes: np.ndarray  # sorted unique context codes (k-gram code // base)
    ctx_total: np.ndarray  # sum of counts over the context's continuations
    ctx_types: np.ndarray  # number of distinct continuations N1+(h •)
    discount: float


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[key == query], or 0 where the query is not a key (keys sorted)."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=values.dtype)
    idx = np.searchsorted(keys, query)
    idx_c = np.minimum(idx, len(keys) - 1)
    found = keys[idx_c] == query
    return np.where(found, values[idx_c], 0)


def _kgram_codes(ids: np.ndarray, k: int, base: int) -> np.ndarray:
    """Code of the k-gram ending at each position i >= k-1 (newest char = lowest digit)."""
    n = len(ids) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    code = np.zeros(n, dtype=np.int64)
    for j in range(k):  # j = 0 is the oldest character
        code = code * base + ids[j : j + n]
    return code


class KneserNeyLM:
    """Character n-gram LM of order ``order`` (context of ``order − 1`` characters).

    ``order=0`` is the uniform model (perplexity = vocabulary size). Discounts are Ney's estimate
    D = n1 / (n1 + 2·n2) per order unless ``discount`` is given. Use :meth:`fit` on a sequence
    of integer ids, then :meth:`nll` / :meth:`perplexity` / :meth:`next_distribution` / :meth:`sample`.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    def __init__(self, order: int, vocab_size: int, discount: float | None = None):
        order = check_int(order, "order", min=0, max=62)  # 62: the codes below are 64-bit integers
        vocab_size = check_int(vocab_size, "vocab_size", min=1)
        if vocab_size ** max(order, 1) >= 2**62:
            raise ArgumentError(f"order {order} with a vocabulary of {vocab_size} does not fit in 64-bit codes")
        if discount is not None:
            discount = check_float(discount, "discount", min=0.0, max=1.0, min_open=True)
        self.order = order
        self.vocab_size = vocab_size
        self.fixed_discount = discount
        self.tables: dict[int, _Table] = {}
        self.fitted = False

    def _check_ids(self, ids) -> np.ndarray:
        a = np.asarray(ids)
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise ArgumentError(f"token ids must be integers, got dtype {a.dtype}")
        a = a.astype(np.int64)
        if a.ndim != 1:
            raise ArgumentError(f"expected a 1-D sequence of token ids, got shape {a.shape}")
        if len(a) and (a.min() < 0 or a.max() >= self.vocab_size):
            raise ArgumentError(f"token ids must be in 0..{self.vocab_size - 1}, got {a.min()}..{a.max()}")
        return a

    def fit(self, ids) -> KneserNeyLM:
        ids = self._check_ids(ids)
        V = self.vocab_size
        self.tables = {}
        raw = {k: np.unique(_kgram_codes(ids, k, V), return_counts=True) for k in range(1, self.order + 1)}
        for k in range(1, self.order + 1):
            codes, counts = raw[k]
            if k < self.order:  # continuation counts: distinct left extensions of each k-gram
                longer = raw[k + 1][0]
                suffix = longer % (V**k)
                s_codes, s_counts = np.unique(suffix, return_counts=True)
                counts = _lookup(s_codes, s_counts, codes)
                keep = counts > 0
                codes, counts = codes[keep], counts[keep]
            ctx = codes // V
            ctx_codes, start = np.unique(ctx, return_index=True)  # codes sorted → contexts grouped
            ctx_total = np.add.reduceat(counts, start) if len(counts) else np.zeros(0, dtype=np.int64)
            ctx_types = np.diff(np.append(start, len(counts)))
            if self.fixed_discount is not None:
                d = self.fixed_discount
            else:
                n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
                d = n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5
                d = float(min(max(d, 0.05), 0.95))
            self.tables[k] = _Table(
                codes,
                counts.astype(np.float64),
                ctx_codes,
                ctx_total.astype(np.float64),
                ctx_types.astype(np.float64),
                d,
            )
        self.fitted = True
        return self

    def _probs(self, history: np.ndarray, n_hist: np.ndarray, target: np.ndarray) -> np.ndarray:
        """P(target | history) for many queries at once.

        ``history``: (N, order−1) ids, oldest first, valid in the last ``n_hist`` columns.
        """
        V = self.vocab_size
        p = np.full(len(target), 1.0 / V)
        for k in range(1, self.order + 1):
            t = self.tables[k]
            usable = n_hist >= k - 1
            ctx = np.zeros(len(target), dtype=np.int64)
            for j in range(k - 1, 0, -1):  # j-th most recent character, oldest first
                ctx = ctx * V + np.where(usable, history[:, history.shape[1] - j], 0)
            gram = ctx * V + target
            c_hw = _lookup(t.codes, t.counts, gram)
            total = _lookup(t.ctx_codes, t.ctx_total, ctx)
            types = _lookup(t.ctx_codes, t.ctx_types, ctx)
            seen = usable & (total > 0)
            safe = np.where(seen, total, 1.0)
            mixed = (np.maximum(c_hw - t.discount, 0.0) + t.discount * types * p) / safe
            p = np.where(seen, mixed, p)
        return p

    def _windows(self, ids: np.ndarray, context=None):
        """History windows for every position of ``ids`` (optionally preceded by ``context``)."""
        h = max(self.order - 1, 0)
        ctx = self._check_ids(context if context is not None else [])[-h:] if h else np.zeros(0, np.int64)
        full = np.concatenate([ctx, ids])
        offset = len(ctx)
        pad = np.concatenate([np.zeros(h, dtype=np.int64), full])
        pos = np.arange(len(ids)) + offset  # index in `full` of each target
        if h:
            history = np.lib.stride_tricks.sliding_window_view(pad, h)[pos]  # (N, h), ends just before target
        else:
            history = np.zeros((len(ids), 0), dtype=np.int64)
        n_hist = np.minimum(pos, h)
        return history, n_hist

    def log_probs(self, ids, context=None) -> np.ndarray:
        """Natural-log probability of each character of ``ids`` given its history, shape (N,).

        ``context``: ids that precede ``ids`` (e.g. the end of the training text); without it the
        first characters are predicted from a shorter history.
        """
        self._check_fitted()
        ids = self._check_ids(ids)
        if len(ids) == 0:
            raise ArgumentError("cannot score an empty sequence")
        history, n_hist = self._windows(ids, context)
        return np.log(self._probs(history, n_hist, ids))

    def nll(self, ids, context=None) -> float:
        """Mean negative log-likelihood in nats per character of ``ids`` (see :meth:`log_probs`)."""
        return float(-np.mean(self.log_probs(ids, context)))

    def context_counts(self, ids, context=None) -> np.ndarray:
        """For each position of ``ids``: how often its full history (``order − 1`` characters) was followed by a
        character in training, c(h), shape (N,); 0 when it was never seen or the history is shorter."""
        self._check_fitted()
        if self.order == 0:
            raise ArgumentError("the order-0 (uniform) model has no contexts")
        ids = self._check_ids(ids)
        history, n_hist = self._windows(ids, context)
        V, t = self.vocab_size, self.tables[self.order]  # the top order holds raw counts
        ctx = np.zeros(len(ids), dtype=np.int64)
        for j in range(self.order - 1, 0, -1):
            ctx = ctx * V + history[:, history.shape[1] - j]
        return np.where(n_hist >= self.order - 1, _lookup(t.ctx_codes, t.ctx_total, ctx), 0).astype(np.int64)

    def context_seen(self, ids, context=None) -> np.ndarray:
        """For each position of ``ids``: was its full history (``order − 1`` characters) seen in training?"""
        if self.order <= 1:
            return np.ones(len(ids), dtype=bool)
        return self.context_counts(ids, context) > 0

    def longest_seen_context(self, ids, context=None) -> np.ndarray:
        """For each position of ``ids``: how many characters of its history the model found in training, (N,).

        ``order − 1`` means the full context was seen; smaller values say how far interpolated
        Kneser–Ney had to back off before it found counts (0: only the unigram and uniform terms).
        """
        self._check_fitted()
        ids = self._check_ids(ids)
        history, n_hist = self._windows(ids, context)
        V = self.vocab_size
        depth = np.zeros(len(ids), dtype=np.int64)
        for k in range(2, self.order + 1):  # table k holds k-grams: contexts of k − 1 characters
            ctx = np.zeros(len(ids), dtype=np.int64)
            for j in range(k - 1, 0, -1):
                ctx = ctx * V + history[:, history.shape[1] - j]
            seen = (n_hist >= k - 1) & (_lookup(self.tables[k].ctx_codes, self.tables[k].ctx_total, ctx) > 0)
            depth = np.where(seen, k - 1, depth)
        return depth

    def _check_fitted(self) -> None:
        if not self.fitted and self.order > 0:
            raise ArgumentError("this model has not been fitted yet: call fit(ids) first")

    def perplexity(self, ids, context=None) -> float:
        """exp(mean NLL): the effective number of equally likely choices per character."""
        return math.exp(self.nll(ids, context))

    def next_distribution(self, context_ids) -> np.ndarray:
        """P(· | context) over the whole vocabulary (sums to 1)."""
        self._check_fitted()
        h = max(self.order - 1, 0)
        ctx = self._check_ids(context_ids)[-h:] if h else np.zeros(0, np.int64)
        hist = np.zeros((self.vocab_size, h), dtype=np.int64)
        if h and len(ctx):
            hist[:, h - len(ctx) :] = ctx
        n_hist = np.full(self.vocab_size, len(ctx))
        return self._probs(hist, n_hist, np.arange(self.vocab_size))

    def sample(self, context_ids, length: int, temperature: float = 1.0, seed: int = 0) -> list[int]:
        """Sample ``length`` ids after ``context_ids``; ``temperature`` reshapes p ∝ p^(1/T)."""
        temperature = check_float(temperature, "temperature", min=0.0, min_open=True)
        length = check_int(length, "length", min=0)
        seed = check_seed(seed)
        rng = np.random.default_rng(check_seed(seed))
        out = list(self._check_ids(context_ids))
        start = len(out)
        for _ in range(length):
            p = self.next_distribution(out)
            if temperature != 1.0:
                logp = np.log(p) / temperature
                p = np.exp(logp - logp.max())
                p /= p.sum()
            out.append(int(rng.choice(self.vocab_size, p=p)))
        return out[start:]


def ngram_sample_text(
    models: dict, tokenizer, prompt: str, n: int, temperature: float, length: int, seed: int = 0
) -> str:
    """Render logic of notebook 01's sampling widget: ``prompt`` continued by the order-``n`` model.

    Raises :class:`~course_lib.widgets.InputError` for an empty prompt, characters outside the
    vocabulary, or an order that was not trained; a bad temperature, length or seed raises
    :class:`~course_lib.errors.ArgumentError` (a panel shows both as a message).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    from .data import Tokenizer

    check_instance(models, "models", dict, "dict {order: fitted KneserNeyLM}")
    bad = [k for k, m in models.items() if not isinstance(m, KneserNeyLM)]
    if bad:
        raise ArgumentTypeError(f"models must map an order to a fitted KneserNeyLM; models[{bad[0]!r}] is not one")
    check_instance(tokenizer, "tokenizer", Tokenizer, "course tokenizer (course_lib.data.Tokenizer)")
    n = check_int(n, "n", min=0)
    temperature = check_float(temperature, "temperature", min=0.0, min_open=True)
    length = check_int(length, "length", min=0, max=MAX_SAMPLE_CHARS)
    seed = check_seed(seed)
    prompt = require_text(prompt, "a prompt (a few characters to continue)")
    unknown = tokenizer.unknown(prompt)
    if unknown:
        raise InputError(
            f"The prompt uses characters Tiny Shakespeare never uses: {''.join(unknown)!r}. "
            "Use letters, digits and ordinary punctuation."
        )
    if n not in models:
        raise InputError(f"No model of order {n}; choose one of {sorted(models, key=repr)}.")
    ids = models[n].sample(tokenizer.encode(prompt), length, temperature=temperature, seed=seed)
    return prompt + tokenizer.decode(ids)
