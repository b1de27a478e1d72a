"""Valid arguments for the fuzzing suite, by parameter name (tiny sizes: each call takes milliseconds).

:data:`POOL` maps a parameter name to a zero-argument builder of a hypothesis strategy; builders
return fresh objects (a model trained by one example never leaks into the next).
:data:`OVERRIDES` maps ``"module.name"`` to ``{parameter: strategy}`` for an item whose parameter
means something else than the common meaning.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch
from hypothesis import strategies as st

TEXT = "ROMEO: the cat sat on the mat.\nJULIET: the dog ate the food, and it was good!\n"
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ate", "food", "good", "king", "queen", "man", "woman"]


@functools.cache
def char_tok():
    from course_lib.data import CharTokenizer

    return CharTokenizer.from_text(TEXT)


@functools.cache
def word_tok():
    from course_lib.data import WordTokenizer

    return WordTokenizer.from_texts([TEXT, " ".join(WORDS)])


def tiny_gpt(vocab_size=None, block_size=8):
    from course_lib.models.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    v = vocab_size or char_tok().vocab_size
    return GPT(GPTConfig(vocab_size=v, block_size=block_size, n_layer=1, n_head=2, n_embd=8))


def word_vectors():
    from course_lib.embeddings import WordVectors

    g = torch.Generator().manual_seed(0)
    return WordVectors(WORDS, torch.randn(len(WORDS), 4, generator=g), name="tiny")


def ids_tensor(n=12, vocab=None):
    v = vocab or char_tok().vocab_size
    return torch.arange(n) % v


def _s(value_fn):
    """A strategy that builds a fresh value each draw."""
    return st.builds(value_fn)


POOL = {
    # the course map
    "stem_or_number": lambda: st.sampled_from([0, 5, "04", "13_review"]),
    # plain numbers
    "seed": lambda: st.integers(0, 2**63 - 1),
    "generator_seed": lambda: st.integers(0, 100),
    "batch_size": lambda: st.integers(1, 4),
    "n_embd": lambda: st.sampled_from([4, 8]),
    "n_hidden": lambda: st.integers(1, 8),
    "n_head": lambda: st.just(2),
    "n_layer": lambda: st.integers(1, 2),
    "vocab_size": lambda: st.integers(2, 50),
    "block_size": lambda: st.integers(1, 8),
    "steps": lambda: st.integers(1, 2),
    "epochs": lambda: st.integers(1, 1),
    "lr": lambda: st.floats(1e-4, 1e-2),
    "dropout": lambda: st.floats(0.0, 0.5),
    "weight_decay": lambda: st.floats(0.0, 0.1),
    "n": lambda: st.integers(1, 5),
    "k": lambda: st.integers(1, 5),
    "temperature": lambda: st.floats(0.1, 3.0),
    "top_k": lambda: st.integers(1, 5),
    "top_p": lambda: st.floats(0.1, 1.0),
    "length": lambda: st.integers(1, 8),
    "max_len": lambda: st.integers(1, 8),
    "window": lambda: st.integers(1, 3),
    "dim": lambda: st.integers(1, 3),
    "n_steps": lambda: st.integers(1, 3),
    "eval_tokens": lambda: st.integers(8, 32),
    "max_tokens": lambda: st.integers(8, 32),
    "n_boot": lambda: st.integers(1, 20),
    "confidence": lambda: st.floats(0.5, 0.99),
    "alpha": lambda: st.floats(0.1, 2.0),
    "beta": lambda: st.floats(0.0, 2.0),
    "lam": lambda: st.floats(0.0, 2.0),
    "std": lambda: st.floats(0.01, 0.5),
    "noise": lambda: st.floats(0.01, 0.5),
    "radius": lambda: st.floats(0.5, 3.0),
    "n_modes": lambda: st.integers(1, 8),
    "n_grid": lambda: st.integers(10, 100),
    "label_smoothing": lambda: st.floats(0.0, 0.5),
    "tau": lambda: st.floats(0.1, 2.0),
    "p": lambda: st.floats(0.05, 0.95),
    "warmup": lambda: st.integers(0, 2),
    "stride": lambda: st.integers(1, 4),
    "min_count": lambda: st.integers(1, 2),
    "min_freq": lambda: st.integers(1, 2),
    "negatives": lambda: st.integers(1, 3),
    "repeats": lambda: st.integers(1, 2),
    "new_tokens": lambda: st.integers(1, 4),
    "max_new_tokens": lambda: st.integers(1, 4),
    "n_sample": lambda: st.integers(2, 20),
    "max_batch": lambda: st.integers(1, 64),
    "grid": lambda: st.integers(5, 20),
    "n_samples": lambda: st.integers(1, 20),
    # flags that must stay quiet or fixed
    "progress": lambda: st.just(False),
    "verbose": lambda: st.just(False),
    "ax": lambda: st.none(),
    "axes": lambda: st.none(),
    "generator": lambda: st.builds(lambda s: torch.Generator().manual_seed(s), st.integers(0, 100)),
    # text
    "text": lambda: st.sampled_from([TEXT, "the cat", "ROMEO: hi"]),
    "prompt": lambda: st.sampled_from(["ROMEO:", "the ", "t"]),
    "sentence": lambda: st.sampled_from(["the cat sat on the mat.", "the dog ate the food."]),
    "word": lambda: st.sampled_from(["king", "cat", "dog"]),
    "title": lambda: st.sampled_from(["", "A title", None]),
    "texts": lambda: st.just([TEXT, "the cat sat."]),
    "sentences": lambda: st.just(["the cat sat on the mat.", "the dog ate the food."]),
    "words": lambda: st.just(list(WORDS)),
    # objects
    "tokenizer": lambda: st.just(char_tok()),
    "tok": lambda: st.just(word_tok()),
    "model": lambda: _s(tiny_gpt),
    "wv": lambda: _s(word_vectors),
    "glove": lambda: _s(word_vectors),
    "models": lambda: st.builds(lambda: {"tiny": word_vectors()}),
    "ids": lambda: _s(lambda: ids_tensor().reshape(1, -1)),
    "idx": lambda: _s(lambda: ids_tensor(6).reshape(1, -1)),
    "train_ids": lambda: _s(lambda: ids_tensor(64)),
    "val_ids": lambda: _s(lambda: ids_tensor(32)),
    "logits": lambda: st.builds(
        lambda s: torch.randn(2, 10, generator=torch.Generator().manual_seed(s)), st.integers(0, 9)
    ),
    "x": lambda: st.builds(lambda s: torch.randn(8, 2, generator=torch.Generator().manual_seed(s)), st.integers(0, 9)),
    "mu": lambda: _s(lambda: torch.zeros(3, 2)),
    "logvar": lambda: _s(lambda: torch.zeros(3, 2)),
    "z": lambda: _s(lambda: torch.zeros(3, 2)),
    "target": lambda: _s(lambda: torch.zeros(3, 4)),
    "counts": lambda: _s(lambda: torch.tensor([5.0, 3.0, 1.0, 1.0])),
    "weights": lambda: _s(lambda: torch.softmax(torch.randn(2, 4, 4), dim=-1)),
    "history": lambda: _s(lambda: pd.DataFrame({"step": [0, 1, 2], "train_loss": [3.0, 2.5, 2.0]})),
    "results": lambda: st.none(),
    # files: relative names, and the tests run in a temporary working folder
    "results_dir": lambda: st.just("fuzz_results"),
    "sums_file": lambda: st.just("FUZZ_SHA256SUMS"),
    "samples": lambda: _s(lambda: torch.randn(16, 2, generator=torch.Generator().manual_seed(0))),
    "table": lambda: _s(lambda: pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})),
    "df": lambda: _s(lambda: pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})),
    "values": lambda: _s(lambda: np.array([0.0, 1.0, 1.0, 0.0])),
}

POOL.update(
    {
        "name": lambda: st.sampled_from(["x", "top_p"]),
        "T": lambda: st.integers(1, 8),
        "lengths": lambda: st.just([3, 5]),
        "labels": lambda: _s(lambda: torch.tensor([0, 1, 1])),
        "y": lambda: _s(lambda: torch.tensor([0.0, 1.0, 2.0])),
        "matrix": lambda: _s(lambda: torch.rand(4, 4)),
        "vectors": lambda: _s(lambda: torch.randn(4, 3, generator=torch.Generator().manual_seed(0))),
        "a": lambda: st.sampled_from(["man", "king"]),
        "b": lambda: st.sampled_from(["woman", "queen"]),
        "c": lambda: st.sampled_from(["king", "man"]),
    }
)

_INT = {"value": st.integers(-5, 5), "name": st.just("n")}
OVERRIDES: dict[str, dict] = {
    "course_lib.checks.check_int": {
        **_INT,
        "min": st.none() | st.integers(-5, 0),
        "max": st.none() | st.integers(0, 5),
    },
    "course_lib.checks.check_float": {
        "value": st.floats(-5, 5),
        "name": st.just("lr"),
        "min": st.none() | st.floats(-5, 0),
    },
    "course_lib.checks.check_seed": {"value": st.integers(0, 2**63 - 1)},
    "course_lib.checks.check_probability": {"value": st.floats(0, 1), "name": st.just("p")},
    "course_lib.checks.check_choice": {
        "value": st.sampled_from(["a", "b"]),
        "name": st.just("kind"),
        "choices": st.just(("a", "b")),
    },
    "course_lib.checks.check_text": {
        "value": st.text(max_size=20),
        "name": st.just("text"),
        "max_len": st.none() | st.integers(0, 50),
    },
    "course_lib.checks.check_tensor": {
        "value": _s(lambda: torch.zeros(2, 3)),
        "name": st.just("x"),
        "dim": st.sampled_from([None, 2, (1, 2)]),
        "dtype": st.sampled_from([None, "float"]),
    },
    "course_lib.checks.check_token_ids": {
        "ids": _s(lambda: torch.tensor([[0, 1, 2]])),
        "name": st.just("ids"),
        "vocab_size": st.integers(3, 50),
    },
    "course_lib.checks.check_mask": {
        "mask": _s(lambda: torch.ones(2, 3, dtype=torch.bool)),
        "name": st.just("mask"),
        "target_shape": st.just((2, 3)),
    },
    "course_lib.checks.check_path": {"value": st.just("."), "name": st.just("path"), "kind": st.just("dir")},
    "course_lib.checks.check_instance": {"value": st.just(3), "name": st.just("n"), "types": st.just(int)},
    "course_lib.checks.check_flag": {"value": st.booleans(), "name": st.just("progress")},
    "course_lib.checks.require_text": {"value": st.sampled_from(["hello", " x "])},
    "course_lib.checks.check_recipe": {
        "recipe": st.sampled_from([None, {"lr": 0.1}, {}]),
        "defaults": st.just({"lr": 0.01, "steps": 10}),
        "name": st.just("recipe"),
    },
    "course_lib.checks.closest_matches": {"word": st.sampled_from(["kin", "cat"]), "vocabulary": st.just(WORDS)},
}

__all__ = ["POOL", "OVERRIDES", "char_tok", "word_tok", "tiny_gpt", "word_vectors", "np"]

#: Items whose other parameters are the programmer's, not a learner's: only these are given bad values
#: (the checks helpers' ``name``/``min``/``max`` are literals written once in course_lib's code).
ONLY_MUTATE: dict[str, list[str]] = {
    f"course_lib.checks.{k}": v
    for k, v in {
        "check_int": ["value"],
        "check_float": ["value"],
        "check_seed": ["value"],
        "check_probability": ["value"],
        "check_choice": ["value"],
        "check_text": ["value"],
        "check_tensor": ["value"],
        "check_token_ids": ["ids"],
        "check_mask": ["mask"],
        "check_path": ["value"],
        "check_instance": ["value"],
        "check_flag": ["value"],
        "require_text": ["value"],
        "closest_matches": ["word"],
        "check_recipe": ["recipe"],
    }.items()
}


def _merge_parts():
    """Merge pool_a/b/c (imported last: they may use this module's builders)."""
    import pool_a
    import pool_b
    import pool_c

    for part in (pool_a, pool_b, pool_c):
        clash = sorted(set(part.POOL_EXTRA) & set(POOL))
        if clash:
            raise RuntimeError(f"{part.__name__} redefines pool entries {clash}: use OVERRIDES_EXTRA instead")
        POOL.update(part.POOL_EXTRA)
        OVERRIDES.update(part.OVERRIDES_EXTRA)
        ONLY_MUTATE.update(part.ONLY_MUTATE_EXTRA)


_merge_parts()
