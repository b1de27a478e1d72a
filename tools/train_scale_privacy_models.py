"""Train the models notebook 12 loads: the scaling study and the canary models (with and without DP-SGD).

Writes, from a seed, with one PyTorch thread by default:

* ``data/checkpoints/scaling_study.pt`` — the six GPT sizes of ``course_lib.scaling.SIZES``, each trained on
  the same 614,400 characters (``SCALING_RECIPE``), weights in float16; plus, as plain data, every run's
  history and figures (parameters, FLOPs, seconds, validation loss) and the *compute-matched* runs: sizes
  trained for the same number of FLOPs as the L3·d64 model (histories and figures only, no weights);
* ``data/checkpoints/canary_models.pt`` — GPTs (``course_lib.privacy.CANARY_RECIPE``) trained for four passes over
  the first 262,144 characters of the Tiny Shakespeare training text with twelve canaries inserted 0, 1, 10 or 100
  times each: without privacy, and with DP-SGD (opacus) at ε = 8 (δ = 1e-5; ``--epsilons 8 1`` adds ε = 1);
  weights in float16; the canaries, each model's
  exposures (exact rank and skew-normal) and histories as plain data.

Every model is rounded to float16 *before* it is measured, so the figures stored are those of the shipped
weights. Each run is cached in ``--cache`` as soon as it ends, so an interrupted run resumes where it
stopped (same seed, same result). The files' lines in ``data/SHA256SUMS`` are replaced. About 20 minutes
on one quiet core.

Usage: python tools/train_scale_privacy_models.py [--only scaling|canary] [--threads 1] [--quick]
(``--quick`` trains for a few steps into /tmp, to check the script; never ship its output).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch

from course_lib.char_lm import shakespeare_char_data
from course_lib.config import CHECKPOINT_DIR
from course_lib.data import CharTokenizer, load_shakespeare, train_val_split, update_checksums
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.perf import matmul_peak_flops
from course_lib.privacy import CANARY_RECIPE, canary_exposure, canary_training_text, make_canaries, train_window_lm
from course_lib.scaling import (
    SCALING_RECIPE,
    SIZES,
    load_gpt_set,
    round_to_half,
    save_gpt_set,
    size_name,
    train_gpt_tokens,
)
from course_lib.train import evaluate_lm

SCALING_FILE = CHECKPOINT_DIR / "scaling_study.pt"
CANARY_FILE = CHECKPOINT_DIR / "canary_models.pt"
COMPUTE_REFERENCE = 3  # index in SIZES whose training FLOPs set the compute-matched budget
COMPUTE_SIZES = (2, 3, 4, 5)
DP_EPSILONS = (8.0,)  # --epsilons 8 1 adds a second, stronger guarantee (about 12 more minutes)


def plain_history(hist) -> dict:
    return {c: [None if isinstance(v, float) and math.isnan(v) else v for v in hist[c].tolist()] for c in hist.columns}


def key(size: dict) -> str:
    return size_name(size).replace("·", "_")


def cached(cache: Path, name: str, fn):
    """Run ``fn() -> (model or None, info)`` once; later calls load the cached result."""
    path = cache / f"{name}.pt"
    if path.exists():
        saved = torch.load(path, weights_only=True)
        model = None
        if saved["state_dict"] is not None:
            model = GPT(GPTConfig(**saved["config"]))
            model.load_state_dict(saved["state_dict"])
        print(f"{name}: loaded from {path}")
        return model, saved["info"]
    model, info = fn()
    state = None if model is None else model.state_dict()
    config = None if model is None else dict(vars(model.config))
    torch.save({"state_dict": state, "config": config, "info": info}, path)
    return model, info


def scaling(out: Path, cache: Path, quick: bool, threads: int) -> Path:
    data = shakespeare_char_data()
    _, _, val_ids = data
    peak = matmul_peak_flops(threads)
    tokens = SCALING_RECIPE["tokens"] // (50 if quick else 1)

    def run(size, n_tokens, label):
        def fn():
            model, hist, info = train_gpt_tokens(size, n_tokens, data, seed=0)
            round_to_half(model)
            info["val_loss"] = evaluate_lm(model, val_ids, SCALING_RECIPE["block_size"], batch_size=64)
            info.update({"set": label, "history": plain_history(hist)})
            print(
                f"{label} {info['size']}: {info['params']:,} params, {info['tokens']:,} tokens, "
                f"{info['flops']:.3g} FLOPs, {info['train_seconds']} s, val {info['val_loss']:.4f}"
            )
            return model, info

        return fn

    models, runs = {}, []
    for size in SIZES:
        model, info = cached(cache, f"same_tokens_{key(size)}", run(size, tokens, "same tokens"))
        models[key(size)] = model
        runs.append(info)
    budget = runs[COMPUTE_REFERENCE]["flops"]
    for i in COMPUTE_SIZES:
        if i == COMPUTE_REFERENCE:
            runs.append({**runs[i], "set": "same compute"})
            continue
        n_tokens = int(budget / runs[i]["flops_per_token"])
        _, info = cached(
            cache,
            f"same_compute_{key(SIZES[i])}",
            lambda i=i, n=n_tokens: (None, run(SIZES[i], n, "same compute")()[1]),
        )
        runs.append(info)
    extra = {
        "runs": runs,
        "matmul_peak_flops": peak,
        "threads": threads,
        "compute_reference": size_name(SIZES[COMPUTE_REFERENCE]),
    }
    return save_gpt_set(out / SCALING_FILE.name, models, extra=extra)


def canaries(out: Path, cache: Path, quick: bool, threads: int, epsilons=DP_EPSILONS) -> Path:
    text = load_shakespeare()
    tok = CharTokenizer.from_text(text)
    train_text, val_text = train_val_split(text)
    canary_list = make_canaries(seed=0)
    with_canaries = canary_training_text(train_text, canary_list, seed=0)
    train_ids = torch.tensor(tok.encode(with_canaries))
    val_ids = torch.tensor(tok.encode(val_text))
    steps = 20 if quick else None
    models, infos = {}, {}
    for name, eps in [("non_private", None)] + [(f"dp_eps{e:g}", e) for e in epsilons]:

        def fn(eps=eps, name=name):
            model, hist, info = train_window_lm(train_ids, val_ids, tok.vocab_size, dp_epsilon=eps, seed=0, steps=steps)
            round_to_half(model)
            info["val_loss"] = evaluate_lm(model, val_ids, CANARY_RECIPE["block_size"], batch_size=64)
            t0 = time.perf_counter()
            measured = canary_list[::4] if quick else canary_list
            info["exposures"] = [canary_exposure(model, tok, c) for c in measured]
            info["exposure_seconds"] = round(time.perf_counter() - t0, 1)
            info["history"] = plain_history(hist)
            by_count: dict[int, list[float]] = {}
            for e in info["exposures"]:
                by_count.setdefault(e["insertions"], []).append(e["exposure"])
            mean = {k: round(sum(v) / len(v), 2) for k, v in sorted(by_count.items())}
            print(
                f"{name}: val {info['val_loss']:.4f}, {info['train_seconds']} s, ε={info.get('epsilon')}, "
                f"mean exposure by insertions {mean}"
            )
            return model, info

        models[name], infos[name] = cached(cache, f"canary_{name}", fn)
    extra = {
        "models": infos,
        "canaries": [{"prefix": c.prefix, "secret": c.secret, "insertions": c.insertions} for c in canary_list],
        "vocab": tok.to_dict(),
        "threads": threads,
        "train_characters": len(with_canaries),
    }
    return save_gpt_set(out / CANARY_FILE.name, models, extra=extra)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["scaling", "canary"], action="append")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/course_scale_privacy_cache"), help="finished runs")
    ap.add_argument("--quick", action="store_true", help="a few steps, written to /tmp (checks the script only)")
    ap.add_argument("--epsilons", type=float, nargs="*", default=list(DP_EPSILONS), help="DP-SGD target ε values")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path("/tmp/course_quick") if args.quick else CHECKPOINT_DIR
    cache = args.cache / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    written = []
    for part in args.only or ["scaling", "canary"]:
        if part == "scaling":
            written.append(scaling(out, cache, args.quick, args.threads))
        else:
            written.append(canaries(out, cache, args.quick, args.threads, args.epsilons))
    if not args.quick:
        update_checksums(written)
    for p in written:
        load_gpt_set(p, verify=not args.quick)
        print(f"{p} ({p.stat().st_size / 1e6:.2f} MB) written and verified")


if __name__ == "__main__":
    main()
