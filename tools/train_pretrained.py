"""Pretrain notebook 11's two shipped models (a GPT by causal LM, a BERT by masked LM) from a seed.

Both read the same text (``course_lib.pretraining.pretraining_corpus``: the English Tatoeba sentences and
the review sentences of notebook 03 without their labels, minus notebook 03's test sentences), through
the same byte-level BPE (2,048 tokens, trained here on that text), with the same model size, batch and
number of steps (``course_lib.pretraining.PRETRAIN_RECIPE``). Writes

* ``data/checkpoints/pretrained_gpt.pt`` and ``data/checkpoints/pretrained_bert.pt``: weights, model
  config, the tokenizer's merges, the recipe, the training history (train and validation loss) and the
  corpus statistics, in files that load with ``torch.load(..., weights_only=True)``;

and replaces their lines in ``data/SHA256SUMS``. Same seed and thread count → the same files.

Usage: python tools/train_pretrained.py [--only gpt|bert] [--seed 0] [--threads 1] [--steps N (trial only)]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch

from course_lib.data import update_checksums
from course_lib.pretraining import (
    PRETRAIN_CHECKPOINTS,
    PRETRAIN_RECIPE,
    corpus_statistics,
    load_pretrained,
    pretrain,
    pretraining_corpus,
    save_pretrained,
    split_corpus,
    token_stream,
    train_tokenizer,
    training_stream,
)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=sorted(PRETRAIN_CHECKPOINTS), action="append")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (the shipped files: 1)")
    ap.add_argument("--steps", type=int, default=None, help="override the recipe's steps (a trial; do not ship)")
    ap.add_argument("--out", type=Path, default=None, help="write here instead of data/checkpoints (trials)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    corpus, splits = pretraining_corpus()
    tok = train_tokenizer(corpus.text.tolist(), PRETRAIN_RECIPE["vocab_size"])
    train, val = split_corpus(corpus, seed=args.seed)
    train_stream = training_stream(tok, train, PRETRAIN_RECIPE["review_weight"], seed=args.seed)
    val_stream = token_stream(tok, val.text.tolist())
    stats = corpus_statistics(corpus, splits, tok)
    stats.update({"train_stream_tokens": len(train_stream), "val_stream_tokens": len(val_stream)})
    print(f"corpus: {stats}; tokenizer in {time.perf_counter() - t0:.1f} s", flush=True)
    written = []
    for kind in args.only or ["gpt", "bert"]:
        model, hist, info = pretrain(kind, tok, train_stream, val_stream, steps=args.steps, seed=args.seed)
        info.update({"threads": args.threads, "corpus": stats})
        path = PRETRAIN_CHECKPOINTS[kind] if args.out is None else args.out / f"pretrained_{kind}.pt"
        save_pretrained(path, model, tok, hist, info)
        written.append(path)
        last = hist.dropna(subset=["val_loss"]).iloc[-1]
        print(
            f"{kind}: {info['params']:,} params, {info['tokens_seen']:,} tokens in {info['train_seconds']} s; "
            f"val loss {last.val_loss:.3f} nats/token → {path} ({path.stat().st_size / 1e6:.2f} MB)",
            flush=True,
        )
    if args.out is None:
        update_checksums(written)
        for p in written:
            load_pretrained(p)  # the verified loader accepts what was written
        print("data/SHA256SUMS updated; checkpoints verified.")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
