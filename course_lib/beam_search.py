"""Greedy decoding and beam search for any model that gives a next-token distribution.

Defined in: notebooks/08_translation.ipynb

A decoder is driven through one function, the model's *step*::

    log_probs, state = step(tokens, state)     # tokens (N,) the last token of each row → log_probs (N, V)

``state`` is whatever the model carries between steps (a GRU's hidden state and the encoder's
outputs, a Transformer's key/value cache), as tensors whose first dimension is the row ``N``. The
search only ever *selects and repeats rows* of it (:func:`select_rows`), so one search serves the
GRU encoder–decoder and the GPT alike.

* :func:`greedy_search` takes the most likely token at every step.
* :func:`beam_search` keeps the ``beam_size`` best partial translations of each sentence (Sutskever
  et al. 2014; Graves 2012 for speech). An end-of-sentence candidate becomes a finished hypothesis
  only when it ranks among the ``beam_size`` best candidates of its step (as in fairseq), so beam 1
  *is* greedy decoding. Scores are total log-probabilities; ``length_penalty`` α ranks finished
  hypotheses by ``score / length**α`` (α = 0: the most probable sequence; α = 1: the best mean
  log-probability per token), because the product of probabilities favours short outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .checks import check_float, check_int, check_tensor
from .errors import ArgumentError, ArgumentTypeError

#: Limits of a search: longer outputs, wider beams or bigger batches are refused (they would run for minutes).
MAX_DECODE_LEN = 1000
MAX_BEAM = 1000
MAX_ROWS = 100_000

Step = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@dataclass(frozen=True)
class Hypothesis:
    """One decoded sequence: its tokens (without the start token, without the end token), its total
    log-probability ``score``, whether it ended with the end token, and its ranking score.

    Defined in: notebooks/08_translation.ipynb
    """

    tokens: tuple[int, ...]
    score: float
    finished: bool
    ranking: float


def select_rows(state, index: torch.Tensor):
    """``state`` with rows ``index`` taken from every tensor in it (tuples, lists and dicts are walked).

    Defined in: notebooks/08_translation.ipynb
    """
    check_tensor(index, "index", dim=1, dtype="integer")
    return _select(state, index)


def _select(state, index: torch.Tensor):
    if isinstance(state, torch.Tensor):
        if state.dim() == 0:
            raise ArgumentError("a decoder state tensor must have one row per hypothesis, got a scalar")
        if len(index) and (int(index.min()) < -state.size(0) or int(index.max()) >= state.size(0)):
            raise ArgumentError(
                f"index must pick rows 0..{state.size(0) - 1} of the state, got {int(index.min())}..{int(index.max())}"
            )
        return state.index_select(0, index)
    if isinstance(state, (list, tuple)):
        return type(state)(_select(s, index) for s in state)
    if isinstance(state, dict):
        return {k: _select(v, index) for k, v in state.items()}
    if state is None:
        return None
    raise ArgumentTypeError(f"a decoder state holds tensors, tuples, lists or dicts, got {type(state).__name__}")


def _check_search_args(step, batch_size, bos_id, eos_id, max_len) -> tuple[int, int]:
    if not callable(step):
        raise ArgumentTypeError(
            f"step must be a function (tokens, state) -> (log_probs, state), got {type(step).__name__}"
        )
    batch_size = check_int(batch_size, "batch_size", min=1, max=MAX_ROWS)
    check_int(bos_id, "bos_id", min=0)
    check_int(eos_id, "eos_id", min=0)
    return batch_size, check_int(max_len, "max_len", min=1, max=MAX_DECODE_LEN)


def _rank(score: float, length: int, alpha: float) -> float:
    return score / (max(length, 1) ** alpha) if alpha else score


def _log_probs(step: Step, tokens: torch.Tensor, state, n_rows: int):
    out = step(tokens, state)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ArgumentTypeError("step(tokens, state) must return (log_probs (N, V), state)")
    logp, state = out
    if not isinstance(logp, torch.Tensor) or logp.dim() != 2 or logp.size(0) != n_rows:
        raise ArgumentError(f"step must return log_probs of shape ({n_rows}, V), got {getattr(logp, 'shape', logp)}")
    return logp.float(), state


def greedy_search(step: Step, state, batch_size: int, bos_id: int, eos_id: int, max_len: int) -> list[Hypothesis]:
    """Pick the most likely next token until ``eos_id`` or ``max_len`` tokens; one :class:`Hypothesis` per row.

    ``state`` has ``batch_size`` rows; ``bos_id`` is the token fed first.

    Defined in: notebooks/08_translation.ipynb
    """
    batch_size, max_len = _check_search_args(step, batch_size, bos_id, eos_id, max_len)
    tokens = torch.full((batch_size,), bos_id, dtype=torch.long)
    out = [[] for _ in range(batch_size)]
    scores = [0.0] * batch_size
    done = [False] * batch_size
    for _ in range(max_len):
        logp, state = _log_probs(step, tokens, state, batch_size)
        best = logp.argmax(-1)  # (N,)
        for i in range(batch_size):
            if done[i]:
                continue
            scores[i] += float(logp[i, best[i]])
            if int(best[i]) == eos_id:
                done[i] = True
            else:
                out[i].append(int(best[i]))
        if all(done):
            break
        tokens = best
    return [Hypothesis(tuple(t), s, d, s) for t, s, d in zip(out, scores, done)]


def beam_search(
    step: Step,
    state,
    batch_size: int,
    bos_id: int,
    eos_id: int,
    max_len: int,
    beam_size: int = 5,
    length_penalty: float = 0.0,
    n_best: int | None = None,
    reorder: Callable = select_rows,
) -> list[list[Hypothesis]]:
    """Beam search for ``batch_size`` sentences at once; returns, per sentence, its best hypotheses.

    ``state`` has ``batch_size`` rows (one per sentence); it is repeated ``beam_size`` times here, so
    ``step`` sees ``batch_size * beam_size`` rows (sentence-major). ``n_best`` (default ``beam_size``)
    hypotheses are returned per sentence, best first by ``score / length**length_penalty`` (the
    length counts the end token). A search stops for a sentence when it holds ``beam_size`` finished
    hypotheses and no live one ranks above them; sequences still running at ``max_len`` tokens are
    returned unfinished.

    Defined in: notebooks/08_translation.ipynb
    """
    B, max_len = _check_search_args(step, batch_size, bos_id, eos_id, max_len)
    K = check_int(beam_size, "beam_size", min=1, max=MAX_BEAM)
    if not callable(reorder):
        raise ArgumentTypeError(f"reorder must be a function (state, index) -> state, got {type(reorder).__name__}")
    alpha = check_float(length_penalty, "length_penalty", min=0.0)
    n_best = K if n_best is None else check_int(n_best, "n_best", min=1, max=K)
    state = reorder(state, torch.arange(B).repeat_interleave(K))  # (B·K rows)
    scores = torch.full((B, K), float("-inf"))
    scores[:, 0] = 0.0  # all beams start identical: expand only the first one
    tokens = torch.full((B * K,), bos_id, dtype=torch.long)
    history = [[() for _ in range(K)] for _ in range(B)]  # tokens of each live beam
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    done = [False] * B
    for t in range(max_len):
        logp, state = _log_probs(step, tokens, state, B * K)
        V = logp.size(-1)
        cand = (scores[:, :, None] + logp.view(B, K, V)).view(B, K * V)  # (B, K·V) total log-probs
        top_scores, top_idx = cand.topk(min(2 * K, K * V), dim=-1)  # (B, 2K) best first
        new_scores = torch.full((B, K), float("-inf"))
        new_tokens = torch.full((B, K), eos_id, dtype=torch.long)
        origin = torch.zeros(B, K, dtype=torch.long)
        new_history = [[() for _ in range(K)] for _ in range(B)]
        last = t == max_len - 1
        for b in range(B):
            if done[b]:
                continue
            alive = 0
            for rank, (s, j) in enumerate(zip(top_scores[b].tolist(), top_idx[b].tolist())):
                if s == float("-inf"):
                    break
                beam, tok = divmod(j, V)
                seq = history[b][beam]
                if tok == eos_id:
                    if rank < K:  # an ending counts only if it is among the K best candidates
                        finished[b].append(Hypothesis(seq, s, True, _rank(s, len(seq) + 1, alpha)))
                    continue
                if alive < K:
                    new_scores[b, alive], new_tokens[b, alive], origin[b, alive] = s, tok, beam
                    new_history[b][alive] = seq + (tok,)
                    alive += 1
            if last:  # out of room: the live beams end here, unfinished
                for k in range(alive):
                    s = float(new_scores[b, k])
                    finished[b].append(Hypothesis(new_history[b][k], s, False, _rank(s, len(new_history[b][k]), alpha)))
                done[b] = True
                continue
            finished[b].sort(key=lambda h: -h.ranking)
            if len(finished[b]) >= K and alive:
                best_alive = max(
                    _rank(float(new_scores[b, k]), len(new_history[b][k]) + 1, alpha) for k in range(alive)
                )
                done[b] = best_alive <= finished[b][K - 1].ranking
            elif alive == 0:
                done[b] = True
        if all(done):
            break
        scores = new_scores.masked_fill(torch.tensor(done)[:, None], float("-inf"))
        history = new_history
        state = reorder(state, (torch.arange(B)[:, None] * K + origin).view(-1))
        tokens = new_tokens.view(-1)
    return [sorted(f, key=lambda h: -h.ranking)[:n_best] for f in finished]
