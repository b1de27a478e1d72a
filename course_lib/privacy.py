"""Memorisation measured with canaries, and training with differential privacy (DP-SGD).

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

Carlini, Liu, Erlingsson, Kos & Song (2019), "The Secret Sharer": put a random secret (a *canary*,
here ``"the code of Qwvbx is mkep."``) into the training text a few times, train the model, then ask
how much more likely the model finds the true secret than the other possible secrets:

* rank: order all |R| candidate secrets by the model's log-likelihood given the prefix; the canary's
  rank r (1 = the model's favourite);
* **exposure** = log2 |R| − log2 r, in bits: 0 when the canary is the least likely candidate, about
  log2 |R| when it is the most likely. A canary the model never saw is a uniformly random candidate,
  so its expected exposure is log2 N − log2(N!)/N ≈ 1/ln 2 ≈ 1.44 bits (:func:`expected_exposure_unseen`);
* when |R| is too large to enumerate, sample candidates, fit a skew-normal distribution to their
  log-perplexities and read the canary's exposure off its tail: exposure ≈ −log2 CDF(canary's
  log-perplexity) (the paper's §4.3 approximation, :func:`exposure_skewnormal`).

The secrets here are 4 lowercase letters (|R| = 26⁴ = 456,976), small enough for
:func:`secret_log_likelihoods` to score *every* candidate exactly (one pass over a tree of key/value
caches), so the approximation can be checked against the exact rank.

DP-SGD (Abadi et al. 2016): clip each example's gradient to norm C, add Gaussian noise of standard
deviation σ·C to the sum, and account the privacy loss ε over the steps. :func:`train_window_lm`
trains the course's GPT on fixed windows of text, with or without DP; DP is done by ``opacus``
(Yousefpour et al. 2021). The privacy unit is one window: a canary inserted k times lives in about
k windows and is protected only by group privacy, ε_group ≤ k·ε.
"""

from __future__ import annotations

import math
import string
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .checks import check_float, check_instance, check_int, check_recipe, check_seed, check_tensor, check_text
from .data import CharTokenizer
from .errors import ArgumentError, ArgumentTypeError
from .models.gpt import GPT, GPTConfig
from .nn_utils import eval_mode
from .train import cosine_schedule, evaluate_lm, lm_cross_entropy, train

ALPHABET = string.ascii_lowercase
SECRET_LENGTH = 4


@dataclass(frozen=True)
class Canary:
    """One canary: a prefix, a random secret and how many times it is put into the training text.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/privacy.py
    """

    prefix: str
    secret: str
    insertions: int

    @property
    def text(self) -> str:
        """The line inserted into the training text."""
        return f"{self.prefix}{self.secret}.\n"


def make_canaries(counts=(0, 1, 10, 100), per_count: int = 3, seed: int = 0) -> list[Canary]:
    """``per_count`` canaries for each insertion count, each with its own random name and secret.

    Prefix ``"the code of Xxxxx is "`` (a random capitalised 5-letter name, so canaries do not share
    a context); secret: :data:`SECRET_LENGTH` letters drawn uniformly from :data:`ALPHABET`.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    per_count = check_int(per_count, "per_count", min=1)
    rng = np.random.default_rng(check_seed(seed))
    out = []
    if isinstance(counts, (str, bytes)) or not hasattr(counts, "__iter__"):
        raise ArgumentTypeError(f"counts must be a sequence of insertion counts, got {type(counts).__name__}")
    for c in counts:
        check_int(c, "each insertion count", min=0)
        for _ in range(per_count):
            name = "".join(rng.choice(list(ALPHABET), 5)).capitalize()
            secret = "".join(rng.choice(list(ALPHABET), SECRET_LENGTH))
            out.append(Canary(f"the code of {name} is ", secret, int(c)))
    return out


def _check_canaries(canaries) -> list[Canary]:
    if not isinstance(canaries, (list, tuple)) or not all(isinstance(c, Canary) for c in canaries):
        raise ArgumentTypeError(
            f"canaries must be a list of Canary (from make_canaries), got {type(canaries).__name__}"
        )
    for c in canaries:
        check_int(c.insertions, "each canary's insertions", min=0, max=1_000_000)
        check_text(c.prefix, "each canary's prefix")
        check_text(c.secret, "each canary's secret")
    return list(canaries)


def insert_canaries(text: str, canaries, seed: int = 0) -> str:
    """``text`` with each canary's line inserted ``insertions`` times, each time at a random line start.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/privacy.py
    """
    text = check_text(text, "text")
    canaries = _check_canaries(canaries)
    rng = np.random.default_rng(check_seed(seed))
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n" and i + 1 < len(text)]
    lines = [c.text for c in canaries for _ in range(c.insertions)]
    if not lines:
        return text
    where = np.sort(rng.choice(len(starts), size=len(lines), replace=True))
    order = rng.permutation(len(lines))
    pieces, last = [], 0
    for k, w in zip(order, where):
        pos = starts[w]
        pieces.append(text[last:pos])
        pieces.append(lines[k])
        last = pos
    pieces.append(text[last:])
    return "".join(pieces)


def _expand_cache(cache, repeats: int):
    return [(k.repeat_interleave(repeats, 0), v.repeat_interleave(repeats, 0)) for k, v in cache]


MAX_SECRETS = 26**5  # secrets scored at once by secret_log_likelihoods (the notebook scores 26⁴)


@torch.no_grad()
def secret_log_likelihoods(
    model: GPT,
    tokenizer: CharTokenizer,
    prefix: str,
    length: int = SECRET_LENGTH,
    alphabet: str = ALPHABET,
    max_batch: int = 4096,
) -> torch.Tensor:
    """log P(secret | prefix) (nats) for **every** secret of ``length`` letters: a tensor of |alphabet|^length.

    Index i holds the secret whose letters are the base-|alphabet| digits of i (``"aaaa"`` = 0,
    ``"aaab"`` = 1 …; :func:`secret_index`). The prefix is read once; then each level of the tree of
    secrets extends the parents' key/value caches by one letter (``GPT.forward_step``), so scoring all
    26⁴ secrets costs about 26³ one-token steps instead of 26⁴ full forward passes.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(model, "model", GPT)
    check_instance(tokenizer, "tokenizer", CharTokenizer)
    length = check_int(length, "length", min=1)
    prefix = check_text(prefix, "prefix")
    alphabet = check_text(alphabet, "alphabet")
    max_batch = check_int(max_batch, "max_batch", min=1)
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise ArgumentError(f"alphabet must be distinct characters, got {alphabet!r:.40}")
    if len(alphabet) ** length > MAX_SECRETS:
        raise ArgumentError(
            f"{len(alphabet)}^{length} secrets is more than {MAX_SECRETS:,}: use a shorter length or alphabet"
        )
    bad = tokenizer.unknown(prefix + alphabet)
    if bad:
        raise ArgumentError(f"characters not in the model's vocabulary: {''.join(bad)!r}")
    if len(prefix) + length > model.config.block_size:
        raise ArgumentError(f"prefix + secret ({len(prefix) + length}) exceed block_size={model.config.block_size}")
    A = len(alphabet)
    letters = torch.tensor(tokenizer.encode(alphabet))  # (A,)
    with eval_mode(model):
        logits, cache = model.forward_step(torch.tensor([tokenizer.encode(prefix)]))
        scores = F.log_softmax(logits[:, -1], -1)[:, letters].reshape(-1)  # (A,): first letter
        for level in range(1, length):
            n_parent = A ** (level - 1)  # contexts whose cache we hold (prefix + level − 1 letters)
            new_scores = []
            new_caches = []
            keep = level < length - 1
            chunk = max(1, max_batch // A)
            for s in range(0, n_parent, chunk):
                part = [(k[s : s + chunk], v[s : s + chunk]) for k, v in cache]
                nb = part[0][0].size(0)
                c = _expand_cache(part, A)  # (nb·A, H, t, hd)
                ids = letters.repeat(nb)[:, None]  # (nb·A, 1): each parent followed by each letter
                lg, c = model.forward_step(ids, c)
                new_scores.append(F.log_softmax(lg[:, -1], -1)[:, letters])  # (nb·A, A)
                if keep:
                    new_caches.append(c)
            step = torch.cat(new_scores)  # (A^level, A)
            scores = (scores[:, None] + step).reshape(-1)  # (A^(level+1),)
            if keep:
                cache = [
                    (torch.cat([c[i][0] for c in new_caches]), torch.cat([c[i][1] for c in new_caches]))
                    for i in range(len(cache))
                ]
    return scores


def secret_index(secret: str, alphabet: str = ALPHABET) -> int:
    """The position of ``secret`` in :func:`secret_log_likelihoods`' output (base-|alphabet| number).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    secret, alphabet = check_text(secret, "secret"), check_text(alphabet, "alphabet")
    i = 0
    for ch in secret:
        if ch not in alphabet:
            raise ArgumentError(f"{ch!r} is not in the secret alphabet {alphabet!r}")
        i = i * len(alphabet) + alphabet.index(ch)
    return i


def rank_of(scores: torch.Tensor, index: int) -> int:
    """1 + the number of candidates strictly more likely than candidate ``index`` (1 = the most likely).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_tensor(scores, "scores", dim=1, dtype="float")
    index = check_int(index, "index", min=0, max=len(scores) - 1)
    return int((scores > scores[index]).sum().item()) + 1


def exposure_from_rank(rank: int, space_size: int) -> float:
    """Exposure in bits: log2(space_size) − log2(rank).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    space_size = check_int(space_size, "space_size", min=1)
    rank = check_int(rank, "rank", min=1, max=space_size)
    return math.log2(space_size) - math.log2(rank)


def expected_exposure_unseen(space_size: int) -> float:
    """Expected exposure of a canary the model never saw: its rank is uniform on 1..N, so log2 N − log2(N!)/N.

    Tends to 1/ln 2 ≈ 1.443 bits as N grows.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    n = check_int(space_size, "space_size", min=1)
    return math.log2(n) - math.lgamma(n + 1) / math.log(2) / n


def exposure_skewnormal(canary_log_ppl: float, sample_log_ppl) -> tuple[float, tuple]:
    """Exposure from a sample of candidates: −log2 P(log-perplexity ≤ the canary's) under a fitted skew-normal.

    ``sample_log_ppl`` are log-perplexities (−log-likelihood) of randomly drawn candidates. Returns
    ``(exposure, (shape, loc, scale))`` of ``scipy.stats.skewnorm``. The survival is computed in log
    space (``logcdf``), so exposures far beyond log2(sample size) stay finite.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from scipy import stats

    canary_log_ppl = check_float(canary_log_ppl, "canary_log_ppl")
    if isinstance(sample_log_ppl, torch.Tensor):
        sample_log_ppl = sample_log_ppl.detach().numpy()
    sample = np.asarray(sample_log_ppl)
    if sample.dtype.kind not in "iuf":
        raise ArgumentTypeError(
            f"sample_log_ppl must be an array of numbers, got {sample.dtype} ({type(sample_log_ppl).__name__})"
        )
    sample = sample.astype(float)
    if sample.ndim != 1 or len(sample) < 10 or not np.isfinite(sample).all():
        raise ArgumentError(f"need a 1-D sample of at least 10 finite log-perplexities, got shape {sample.shape}")
    shape, loc, scale = stats.skewnorm.fit(sample)
    logcdf = float(stats.skewnorm.logcdf(float(canary_log_ppl), shape, loc, scale))
    return -logcdf / math.log(2), (float(shape), float(loc), float(scale))


def canary_exposure(
    model: GPT, tokenizer: CharTokenizer, canary: Canary, n_sample: int = 2000, seed: int = 0, max_batch: int = 4096
) -> dict:
    """Exact (rank-based) and skew-normal exposure of one canary, and its rank and log-perplexity.

    The exact exposure scores all 26⁴ secrets; the approximation fits a skew-normal to ``n_sample``
    of them drawn at random (what one would do when the space cannot be enumerated).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(canary, "canary", Canary)
    _check_canaries([canary])
    n_sample, seed = check_int(n_sample, "n_sample", min=10, max=10_000_000), check_seed(seed)
    scores = secret_log_likelihoods(model, tokenizer, canary.prefix, len(canary.secret), max_batch=max_batch)
    i = secret_index(canary.secret)
    r = rank_of(scores, i)
    g = torch.Generator().manual_seed(check_seed(seed))
    sample = -scores[torch.randint(len(scores), (check_int(n_sample, "n_sample", min=10),), generator=g)]
    approx, _ = exposure_skewnormal(-float(scores[i]), sample.numpy())
    return {
        "prefix": canary.prefix,
        "secret": canary.secret,
        "insertions": canary.insertions,
        "rank": r,
        "log_ppl": -float(scores[i]),
        "exposure": exposure_from_rank(r, len(scores)),
        "exposure_skewnormal": approx,
        "space": len(scores),
    }


# ----------------------------------------------------------------------------------------------
# Training on fixed windows, with or without DP-SGD
# ----------------------------------------------------------------------------------------------

#: The canary models: a small GPT trained for four passes over the first 262,144 characters of the training
#: text (so a canary inserted k times is seen 4k times), fixed 64-character windows, batch 32.
CANARY_RECIPE: dict = {
    "model": {"n_layer": 2, "n_head": 4, "n_embd": 96},
    "train_chars": 262_144,
    "block_size": 64,
    "batch_size": 32,
    "epochs": 4,
    "lr": 3e-3,
    "min_lr": 1e-4,
    "warmup": 30,
    "weight_decay": 0.0,
    "grad_clip": 1.0,  # non-private runs; DP-SGD clips each example to max_grad_norm instead
    "max_grad_norm": 1.0,
    "delta": 1e-5,
}


def canary_training_text(train_text: str, canaries, seed: int = 0, recipe: dict | None = None) -> str:
    """The canary models' training text: the first ``train_chars`` characters of ``train_text``, canaries inserted.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    recipe = check_recipe(recipe, CANARY_RECIPE)
    check_int(recipe["train_chars"], "recipe['train_chars']", min=1)
    return insert_canaries(check_text(train_text, "train_text")[: recipe["train_chars"]], canaries, seed=seed)


def text_windows(ids: torch.Tensor, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows of a 1-D id tensor: inputs X (N, T) and targets Y (N, T) (Y = X shifted by one).

    These windows are the *examples* of DP-SGD: its guarantee is per window.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/privacy.py
    """
    block_size = check_int(block_size, "block_size", min=1)
    check_tensor(ids, "ids", dim=1, dtype="integer")
    n = (len(ids) - 1) // block_size
    if n < 1:
        raise ArgumentError(f"need more than {block_size} ids, got {len(ids)}")
    starts = torch.arange(n) * block_size
    offsets = torch.arange(block_size)
    return ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]


def train_window_lm(
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    vocab_size: int,
    recipe: dict | None = None,
    dp_epsilon: float | None = None,
    seed: int = 0,
    eval_tokens: int = 16384,
    steps: int | None = None,
    progress: bool = True,
):
    """Train a GPT on the fixed windows of ``train_ids``; with ``dp_epsilon``, by DP-SGD (``opacus``).

    Non-private: minibatches of ``batch_size`` windows drawn at random each step, AdamW, gradient
    clipping. Private: opacus's Poisson sampling (each window joins a batch with probability
    batch_size / N), per-window gradients clipped to ``max_grad_norm``, Gaussian noise with the
    multiplier that reaches ``dp_epsilon`` at δ = ``delta`` after ``epochs`` passes (RDP accountant),
    the same AdamW and schedule. Returns ``(model, history, info)``; ``info`` has ε, σ, seconds and the
    validation loss on the whole validation text.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    recipe = check_recipe(recipe, CANARY_RECIPE)
    seed = check_seed(seed)
    B, T = check_int(recipe["batch_size"], "recipe['batch_size']", min=1), recipe["block_size"]
    check_tensor(val_ids, "val_ids", dim=1, dtype="integer")
    check_int(eval_tokens, "eval_tokens", min=1)
    if steps is not None:
        check_int(steps, "steps", min=1)
    X, Y = text_windows(train_ids, T)
    n = len(X)
    n_steps = steps if steps is not None else recipe["epochs"] * (n // B)
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = GPT(GPTConfig(vocab_size=vocab_size, block_size=T, dropout=0.0, bias=False, **recipe["model"]))
    optimizer = model.configure_optimizer(lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    info = {"dp": dp_epsilon is not None, "windows": n, "recipe": recipe, "seed": seed}
    net = model
    if dp_epsilon is None:

        def get_batch(step):
            i = torch.randint(n, (B,), generator=generator)
            return X[i], Y[i]

        clip = recipe["grad_clip"]
    else:
        from opacus import PrivacyEngine
        from torch.utils.data import DataLoader, TensorDataset

        check_float(dp_epsilon, "dp_epsilon", min=0.0, min_open=True)
        epochs = max(1, round(n_steps * B / n))
        loader = DataLoader(TensorDataset(X, Y), batch_size=B, generator=generator)
        warnings.filterwarnings("ignore", message="Secure RNG turned off")  # a teaching run, not a production one
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")  # ε is then an upper bound
        warnings.filterwarnings("ignore", message=".*autocast", category=UserWarning)  # opacus probes CPU autocast
        warnings.filterwarnings("ignore", message="Full backward hook is firing")  # opacus's hooks on the inputs
        engine = PrivacyEngine(accountant="rdp", secure_mode=False)
        net, optimizer, loader = engine.make_private_with_epsilon(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            target_epsilon=float(dp_epsilon),
            target_delta=recipe["delta"],
            epochs=epochs,
            max_grad_norm=recipe["max_grad_norm"],
            grad_sample_mode="functorch",  # per-example gradients for any module (tied weights, learned positions)
            noise_generator=torch.Generator().manual_seed(seed + 1),
        )
        batches = _cycle(loader)

        def get_batch(step):
            return next(batches)

        clip = None  # opacus clips every example's gradient
        info.update({"noise_multiplier": float(optimizer.noise_multiplier), "epochs": epochs})

    def loss_fn(net, batch):
        x, y = batch
        return lm_cross_entropy(net(x), y)  # (B, T, V) vs (B, T)

    def eval_fn(net):
        return {"val_loss": evaluate_lm(model, val_ids, T, batch_size=64, max_tokens=eval_tokens)}

    every = max(1, n_steps // 8)
    hist = train(
        net,
        get_batch,
        loss_fn,
        optimizer,
        n_steps,
        eval_every=every,
        eval_fn=eval_fn,
        lr_schedule=cosine_schedule(
            recipe["lr"], n_steps, warmup=min(recipe["warmup"], n_steps // 2), min_lr=recipe["min_lr"]
        ),
        grad_clip=clip,
        log_every=max(1, every // 4),
        progress=progress,
        desc=f"{f'DP-SGD ε={dp_epsilon:g}' if dp_epsilon else 'non-private'} ({model.num_params():,} params)",
    )
    if dp_epsilon is not None:
        info["epsilon"] = float(engine.get_epsilon(recipe["delta"]))
        info["delta"] = recipe["delta"]
        if hasattr(net, "remove_hooks"):
            net.remove_hooks()  # the bare model is used from here on
    t0 = time.perf_counter()
    info.update(
        {
            "params": model.num_params(),
            "steps": hist.attrs["steps_done"],
            "train_seconds": round(hist.attrs["train_seconds"], 2),
            "val_loss": evaluate_lm(model, val_ids, T, batch_size=64),
            "eval_seconds": round(time.perf_counter() - t0, 2),
            "threads": torch.get_num_threads(),
        }
    )
    return model, hist, info


def _cycle(loader):
    while True:
        yield from loader
