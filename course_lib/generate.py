"""Sampling from a language model: top-k, top-p (nucleus), temperature, and ONE generation loop.

Defined in: notebooks/05_text_generation.ipynb

Every autoregressive model in the course (the character LSTM, the GPT) is sampled by
:func:`generate`, which needs only the model's incremental step::

    logits, state = model.forward_step(idx_new, state)   # idx_new (B, t) → logits (B, t, V)

``state`` is ``None`` at the start and is whatever the model carries between calls: the LSTM's
(h, c), the Transformer's key/value cache. A model whose context is limited sets
``model.max_context`` (its ``block_size``); when the cache is full, the loop re-encodes the most
recent tokens. ``use_cache=False`` recomputes the whole prefix (cropped to ``max_context``) at
every step: for a model without a context limit that is about n²/2 token reads for n new tokens —
quadratic. (The article's §5.2 loop is different again: it re-reads a *fixed* 10-token window at every
step, 10 reads per new token — linear, with a large constant; ``article_program.count_token_reads``
compares the three.) Both give the same tokens for a model without a
context limit (the LSTM) and, for a Transformer, as long as prompt + generated text fits in
``max_context``; beyond that the cached loop keeps between ``max_context // 2`` and
``max_context`` tokens of context (it re-encodes the newest half when the cache is full), while
the uncached loop always sees exactly the last ``max_context`` tokens.

References: Holtzman et al. 2020 (nucleus sampling); Fan et al. 2018 (top-k sampling).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .checks import check_float, check_instance, check_int, check_probability, check_seed, check_tensor
from .data import Tokenizer
from .errors import ArgumentError, ArgumentTypeError, InputError
from .nn_utils import eval_mode


def _check_logits(logits: torch.Tensor) -> None:
    check_tensor(logits, "logits", dtype="float")
    if logits.dim() < 1 or logits.size(-1) < 1:
        raise ArgumentError(f"logits must have shape (..., V) with V >= 1, got {tuple(logits.shape)}")
    if torch.isnan(logits).any():
        raise ArgumentError("logits contain NaN: the model's output is broken (check its training loss)")
    if torch.isposinf(logits).any():
        raise ArgumentError("logits contain +inf: the model's output overflowed (check its training loss)")
    if not (logits > float("-inf")).any(-1).all():
        raise ArgumentError("a row of logits is entirely -inf: no token can be sampled from it")


def _check_top_k(k, name: str = "top_k") -> int:
    return check_int(k, name, min=1)


def _check_top_p(p, name: str = "top_p") -> float:
    return check_probability(p, name, allow_zero=False)


def _check_sampler_args(logits, temperature, top_k, top_p) -> None:
    _check_logits(logits)
    if logits.dim() != 2:
        raise ArgumentError(f"sample_next expects logits of shape (B, V), got {tuple(logits.shape)}")
    check_float(temperature, "temperature", min=0.0)
    if top_k is not None:
        _check_top_k(top_k)
    if top_p is not None:
        _check_top_p(top_p)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits (and any tied with the k-th), set the rest to −inf.

    ``logits`` (..., V) → same shape. Without ties exactly ``min(k, V)`` entries stay finite.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_logits(logits)
    _check_top_k(k)
    if k >= logits.size(-1):
        return logits.clone()
    kth = torch.topk(logits, int(k), dim=-1).values[..., -1:]  # (..., 1) the k-th largest logit
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: keep the smallest set of most likely tokens whose probability is ≥ ``p``.

    ``logits`` (..., V) → same shape. Tokens tied with the last kept one are kept too; at least
    one token (the most likely) is always kept; ``p = 1`` keeps every token.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_logits(logits)
    _check_top_p(p)
    probs = torch.softmax(logits.double(), dim=-1)  # (..., V) float64: cumulative sums stay exact enough
    sorted_probs, _ = torch.sort(probs, dim=-1, descending=True)  # (..., V)
    cum = sorted_probs.cumsum(-1)  # (..., V)
    before = torch.cat([torch.zeros_like(cum[..., :1]), cum[..., :-1]], dim=-1)  # mass strictly before each position
    # keep position j while the mass before it is still < p: the nucleus ends where the sum first reaches p
    n_keep = (before < float(p) - 1e-12).sum(-1, keepdim=True).clamp(min=1)  # (..., 1)
    threshold = sorted_probs.gather(-1, n_keep - 1)  # (..., 1) probability of the last kept token
    return logits.masked_fill(probs < threshold, float("-inf"))


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw the next token id from logits (B, V) → ids (B,).

    ``temperature`` divides the logits: below 1 it sharpens the distribution, above 1 it flattens
    it; as T → 0 sampling becomes greedy (``temperature=0`` is exactly ``argmax``). ``top_k`` and
    ``top_p`` filter the tempered logits before sampling. ``generator`` makes sampling reproducible.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_sampler_args(logits, temperature, top_k, top_p)
    if temperature == 0:
        return logits.argmax(-1)  # (B,)
    logits = logits.float()
    # subtract the row maximum first, so a tiny temperature cannot overflow to inf − inf = NaN
    logits = (logits - logits.max(-1, keepdim=True).values) / float(temperature)  # (B, V), max 0
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = torch.softmax(logits, dim=-1)  # (B, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (B,)


#: generate() refuses to write more tokens than this in one call (a huge count would run for hours).
MAX_NEW_TOKENS = 100_000


def _check_generate_args(model, idx, max_new_tokens) -> None:
    if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
        raise ArgumentError(
            "idx must be a LongTensor of token ids with shape (B, T) — a batch of prompts; "
            f"got {type(idx).__name__} {tuple(getattr(idx, 'shape', ()))}"
            " (wrap a single prompt as torch.tensor([ids]))"
        )
    if idx.size(1) == 0:
        raise ArgumentError("the prompt is empty: give at least one token to start from")
    check_int(max_new_tokens, "max_new_tokens", min=0, max=MAX_NEW_TOKENS)
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "forward_step"):
        raise ArgumentTypeError(
            f"{type(model).__name__} has no forward_step(idx, state) -> (logits, state); "
            "generate() drives models through it"
        )


def generate(
    model,
    idx: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
    sample_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Extend ``idx`` (B, T) by ``max_new_tokens`` sampled tokens; returns (B, T + max_new_tokens).

    With ``use_cache=True`` the model's state (LSTM state or key/value cache) is carried from step
    to step, so each step processes one new token. With ``use_cache=False`` each step re-reads the
    last ``max_context`` tokens from scratch. ``sample_fn(logits (B, V)) → ids (B,)`` overrides the
    sampler (default: :func:`sample_next` with the given temperature / top_k / top_p).

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_generate_args(model, idx, max_new_tokens)
    if sample_fn is not None and not callable(sample_fn):
        raise ArgumentTypeError(f"sample_fn must be a function logits -> ids, got {type(sample_fn).__name__}")
    if sample_fn is None:

        def sample_fn(logits):
            return sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)

    max_ctx = getattr(model, "max_context", None)
    out = idx  # (B, T) grows to (B, T + max_new_tokens)
    state, cached = None, 0  # cached: how many tokens the state has absorbed
    with eval_mode(model), torch.no_grad():
        for _ in range(max_new_tokens):
            if use_cache:
                if state is None or (max_ctx is not None and cached >= max_ctx):
                    # first step, or the cache is full: (re-)encode the newest tokens from scratch
                    keep = None if max_ctx is None else (max_ctx if state is None else max(1, max_ctx // 2))
                    window = out if keep is None else out[:, -keep:]  # (B, t)
                    logits, state = model.forward_step(window, None)  # (B, t, V)
                    cached = window.size(1)
                else:
                    logits, state = model.forward_step(out[:, -1:], state)  # (B, 1, V): one new token
                    cached += 1
            else:
                window = out if max_ctx is None else out[:, -max_ctx:]  # (B, t) the whole (cropped) prefix
                logits, _ = model.forward_step(window, None)  # (B, t, V)
            nxt = sample_fn(logits[:, -1, :])  # (B,)
            out = torch.cat([out, nxt[:, None].to(out.dtype)], dim=1)  # (B, T + 1)
    return out


# ---------------------------------------------------------------------------------------------
# Text in, text out: the fixed ``generate_text`` and the sampling widget
# ---------------------------------------------------------------------------------------------

STRATEGIES = ("greedy", "sample", "top-k", "top-p")


#: Longer prompts are refused: reading 100,000 characters would take seconds and gain nothing.
MAX_PROMPT_CHARS = 2000
#: generate_text writes at most this many characters (a huge length would run for hours, one token at a time).
MAX_GENERATED_CHARS = 2000


def encode_prompt(tokenizer, prompt: str) -> torch.Tensor:
    """A prompt string → a batch of one, (1, T) LongTensor; :class:`~course_lib.widgets.InputError` if unusable.

    Empty prompts and characters outside the model's vocabulary are refused with a message that
    names the unknown characters.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if prompt is None or prompt == "":
        raise InputError("Type a prompt in the box above (for example ROMEO:).")
    if not isinstance(prompt, str):
        raise InputError(f"The prompt must be text, got {type(prompt).__name__}.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(
            f"The prompt is {len(prompt):,} characters long; the limit is {MAX_PROMPT_CHARS:,} "
            "(the model reads at most its context anyway)."
        )
    check_instance(tokenizer, "tokenizer", Tokenizer, "course tokenizer (course_lib.data.Tokenizer)")
    missing = tokenizer.unknown(prompt)
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise InputError(
            f"The prompt has characters the model never saw in Shakespeare: {shown}. "
            "Use plain English letters, digits and punctuation."
        )
    return torch.tensor([tokenizer.encode(prompt)], dtype=torch.long)  # (1, T)


def strategy_kwargs(strategy: str, temperature: float = 1.0, top_k: int = 10, top_p: float = 0.9) -> dict:
    """Sampler settings for a named strategy: greedy, sample (pure, with temperature), top-k, top-p.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if strategy not in STRATEGIES:
        raise ArgumentError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    if strategy == "greedy":
        return {"temperature": 0.0, "top_k": None, "top_p": None}
    return {
        "temperature": check_float(temperature, "temperature", min=0.0),
        "top_k": check_int(top_k, "top_k", min=1) if strategy == "top-k" else None,
        "top_p": check_probability(top_p, "top_p", allow_zero=False) if strategy == "top-p" else None,
    }


def generate_text(
    model,
    tokenizer,
    prompt: str,
    length: int = 200,
    strategy: str = "top-p",
    temperature: float = 0.8,
    top_k: int = 10,
    top_p: float = 0.9,
    seed: int = 0,
) -> str:
    """The article's ``generate_text``, fixed: prompt text in, prompt + ``length`` generated characters out.

    A batch of one prompt, the state carried between steps, a real sampler, and the ids decoded.

    Defined in: notebooks/05_text_generation.ipynb
    """
    idx = encode_prompt(tokenizer, prompt)  # (1, T)
    generator = torch.Generator().manual_seed(check_seed(seed))
    length = check_int(length, "length", min=0, max=MAX_GENERATED_CHARS)
    out = generate(model, idx, length, generator=generator, **strategy_kwargs(strategy, temperature, top_k, top_p))
    return tokenizer.decode(out[0])


@torch.no_grad()
def next_token_distribution(model, tokenizer, prompt: str, temperatures=(0.5, 1.0, 2.0), top: int = 12):
    """Probabilities of the next character after ``prompt`` under several temperatures (a long DataFrame).

    Columns: ``temperature``, ``char`` (space shown as ␣, newline as ⏎), ``prob``; the ``top`` most
    likely characters at temperature 1, most likely first.

    Defined in: notebooks/05_text_generation.ipynb
    """
    import pandas as pd

    check_instance(tokenizer, "tokenizer", Tokenizer, "course tokenizer (course_lib.data.Tokenizer)")
    check_instance(model, "model", torch.nn.Module, "torch.nn.Module")
    top = check_int(top, "top", min=1, max=tokenizer.vocab_size)
    if not isinstance(temperatures, (list, tuple)) or not 1 <= len(temperatures) <= 20:
        raise ArgumentTypeError(f"temperatures must be a list of 1 to 20 numbers > 0, got {temperatures!r:.60}")
    temperatures = [check_float(t, "temperatures", min=0.0, min_open=True) for t in temperatures]
    idx = encode_prompt(tokenizer, prompt)  # (1, T)
    ctx = getattr(model, "max_context", None)
    if ctx is not None:
        idx = idx[:, -ctx:]
    with eval_mode(model):
        logits, _ = model.forward_step(idx, None)  # (1, T, V)
    last = logits[0, -1].float()  # (V,)
    order = torch.argsort(torch.softmax(last, -1), descending=True)[:top]
    show = {" ": "␣", "\n": "⏎"}
    rows = []
    for t in temperatures:
        probs = torch.softmax(last / t, -1)  # (V,)
        for i in order.tolist():
            c = tokenizer.itos[i]
            rows.append({"temperature": t, "char": show.get(c, c), "prob": float(probs[i])})
    return pd.DataFrame(rows)


def gumbel_softmax_sample(
    logits: torch.Tensor, tau: float, generator: torch.Generator | None = None, n: int = 1
) -> torch.Tensor:
    """``n`` relaxed one-hot samples (n, V) = softmax((logits + Gumbel noise) / tau), differentiable in logits.

    As tau → 0 they become one-hot samples of ``softmax(logits)`` (Jang et al. 2017; Maddison et al. 2017).

    Defined in: notebooks/07_gan.ipynb
    """
    check_float(tau, "tau", min=0.0, min_open=True)
    check_tensor(logits, "logits", dim=1, dtype="float")
    n = check_int(n, "n", min=1)
    u = torch.rand(n, logits.shape[-1], generator=generator, dtype=logits.dtype).clamp_(1e-10, 1 - 1e-10)
    gumbel = -torch.log(-torch.log(u))  # (n, V)
    return F.softmax((logits + gumbel) / tau, dim=-1)
