"""Valid arguments for the fuzzing suite: part a (merged into pool.POOL / OVERRIDES / ONLY_MUTATE).

Split from pool.py so that separate parts of the course can be added without touching one file; the
names here follow pool.py's conventions (a builder returning a hypothesis strategy; OVERRIDES keyed by
"module.name").
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from hypothesis import strategies as st

POOL_EXTRA: dict = {}
OVERRIDES_EXTRA: dict[str, dict] = {}
ONLY_MUTATE_EXTRA: dict[str, list[str]] = {}


def _s(value_fn):
    """A strategy that builds a fresh value each draw."""
    return st.builds(value_fn)


def _add(module: str, entries: dict[str, dict]):
    for name, params in entries.items():
        OVERRIDES_EXTRA[f"course_lib.{module}.{name}"] = params


# ------------------------------------------------------------------------------------ translation
@functools.cache
def pairs():
    from course_lib.translation import Pair

    return (
        Pair(french="je suis un chat .", english="i am a cat ."),
        Pair(french="il est grand .", english="he is tall ."),
        Pair(french="elle est petite .", english="she is small ."),
        Pair(french="nous sommes ici .", english="we are here ."),
    )


@functools.cache
def joint_tok():
    from course_lib.translation import build_joint_tokenizer

    return build_joint_tokenizer(list(pairs()))


@functools.cache
def fr_en_toks():
    from course_lib.translation import build_tokenizers

    return build_tokenizers(list(pairs()))


def joint_gpt():
    from pool import tiny_gpt

    return tiny_gpt(vocab_size=joint_tok().vocab_size, block_size=16)


def tiny_seq2seq():
    from course_lib.models.seq2seq import Seq2Seq, Seq2SeqConfig

    src, tgt = fr_en_toks()
    torch.manual_seed(0)
    return Seq2Seq(Seq2SeqConfig(src_vocab_size=src.vocab_size, vocab_size=tgt.vocab_size, n_embd=8, n_hidden=8))


def _stats(n=4, shift=0):
    from course_lib.translation import bleu_statistics

    hyps = ["i am a cat .", "he is tall .", "she is small .", "we are here ."]
    refs = ["i am a cat .", "he is big .", "she is small .", "we are there ."]
    return np.stack([bleu_statistics(hyps[(i + shift) % 4], refs[i]) for i in range(n)])


_PAIRS = _s(lambda: list(pairs()))
_add(
    "translation",
    {
        "Pair": {"french": st.just("je suis un chat ."), "english": st.just("i am a cat .")},
        "Translation": {
            "text": st.just("i am a cat ."),
            "tokens": st.just(("i", "am", "a", "cat", ".")),
            "score": st.floats(-5, 0),
            "ranking": st.floats(-5, 0),
            "finished": st.booleans(),
        },
        "Translator": {"model": _s(joint_gpt), "src_tok": _s(joint_tok), "max_len": st.integers(1, 5)},
        "bleu_from_statistics": {"stats": _s(lambda: _stats().sum(0))},
        "bleu_statistics": {
            "hypothesis": st.sampled_from(["i am a cat .", "he is tall ."]),
            "reference": st.just("i am a cat ."),
            "max_n": st.integers(1, 4),
        },
        "build_joint_tokenizer": {"pairs": _PAIRS},
        "build_tokenizers": {"pairs": _PAIRS},
        "corpus_bleu": {
            "hypotheses": st.just(["i am a cat .", "he is tall ."]),
            "references": st.just(["i am a cat .", "he is big ."]),
        },
        "corpus_chrf": {
            "hypotheses": st.just(["i am a cat .", "he is tall ."]),
            "references": st.just(["i am a cat .", "he is big ."]),
        },
        "gpt_batch": {"pairs": _PAIRS, "tok": _s(joint_tok)},
        "gpt_translation_loss": {
            "model": _s(joint_gpt),
            "batch": _s(lambda: __import__("course_lib.translation").translation.gpt_batch(list(pairs()), joint_tok())),
            "label_smoothing": st.floats(0.0, 0.3),
        },
        "pad_sequences": {"seqs": st.just([[1, 2, 3], [4]]), "pad_id": st.integers(0, 3)},
        "paired_bootstrap": {
            "stats_a": _s(_stats),
            "stats_b": _s(lambda: _stats(shift=1)),
            "n_samples": st.integers(10, 30),
        },
        "sentence_groups": {"pairs": _PAIRS},
        "split_pairs": {"pairs": _PAIRS, "val_frac": st.floats(0.0, 0.5), "test_frac": st.floats(0.0, 0.5)},
        "seq2seq_batch": {
            "pairs": _PAIRS,
            "src_tok": _s(lambda: fr_en_toks()[0]),
            "tgt_tok": _s(lambda: fr_en_toks()[1]),
        },
        "seq2seq_loss": {
            "model": _s(tiny_seq2seq),
            "batch": _s(
                lambda: __import__("course_lib.translation").translation.seq2seq_batch(list(pairs()), *fr_en_toks())
            ),
            "label_smoothing": st.floats(0.0, 0.3),
        },
        "tutorial_keeps": {"english": st.sampled_from(["I am cold.", "Go!"]), "french": st.just("J'ai froid.")},
        "tutorial_normalize": {"s": st.sampled_from(["J'ai froid.", "Ça va?"])},
    },
)
