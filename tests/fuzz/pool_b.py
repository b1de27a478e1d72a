"""Valid arguments for the fuzzing suite: part b (merged into pool.POOL / OVERRIDES / ONLY_MUTATE).

Split from pool.py so that separate parts of the course can be added without touching one file; the
names here follow pool.py's conventions (a builder returning a hypothesis strategy; OVERRIDES keyed by
"module.name").

Part b: course_lib.losses, train, data, sentiment, embeddings, beam_search, char_lm, attention, bpe, plots,
pooling, generate, ngram, nn_utils, toy_data. Builders run while hypothesis draws an example, outside the
5 s limit of the call itself (fuzzlib.check_call): models, optimizers and checkpoint files are made here.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch
from hypothesis import strategies as st

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ate", "food", "good", "king", "queen", "man", "woman"]
SENTENCES = ["the cat sat on the mat", "a good dog", "the food was bad", "the king ate", "what a good queen", "bad"]


def _s(fn):
    """A strategy that builds a fresh value each draw."""
    return st.builds(fn)


def _t(fn):
    """A seeded random tensor, fresh each draw."""
    return st.builds(lambda s: fn(torch.Generator().manual_seed(s)), st.integers(0, 9))


@functools.cache
def warm_optimizers() -> bool:
    """Build one optimizer: the first one imports torch._dynamo (seconds), once per process.

    That one-time import would otherwise be charged to the first fuzzed call that makes an optimizer.
    """
    torch.optim.AdamW(torch.nn.Linear(1, 1).parameters())
    return True


def _tiny_gpt(block_size=8):
    from pool import tiny_gpt

    warm_optimizers()
    return tiny_gpt(block_size=block_size)


def _char_tok():
    from pool import char_tok

    return char_tok()


def _word_tok():
    from pool import word_tok

    return word_tok()


def _word_vectors():
    from pool import word_vectors

    return word_vectors()


def _data_file(rel: str) -> str:
    from course_lib.config import DATA_DIR

    return str(DATA_DIR / rel)


SMALL_DATA = "glove_6B_50d_10k/README.md"  # a small file listed in data/SHA256SUMS (read only)


# ------------------------------------------------------------------------------------------ losses
def _linear(d=3):
    torch.manual_seed(0)
    return torch.nn.Linear(d, d)


_VAE_KIND = st.sampled_from(["gaussian", "bernoulli"])
_LOSSES = {
    "article_case_study_loss": {
        "word_vectors": _t(lambda g: torch.randn(4, 3, generator=g)),
        "encoder": _s(_linear),
        "decoder": _s(_linear),
    },
    "article_decoder_loss": {
        "x": _t(lambda g: torch.randn(3, 2, generator=g)),
        "x_prime": _t(lambda g: torch.randn(3, 2, generator=g)),
    },
    "article_discriminator_loss": {
        "d_real": _t(lambda g: torch.rand(4, generator=g)),
        "d_fake": _t(lambda g: torch.rand(4, generator=g)),
    },
    "article_generator_loss": {"d_real": _t(lambda g: torch.rand(4, generator=g))},
    "article_vae_loss": {
        "recon_mean": _t(lambda g: torch.randn(3, 4, generator=g)),
        "log_sigma": st.sampled_from([0.0, -1.0]),
    },
    "discriminator_loss": {
        "real_logits": _t(lambda g: torch.randn(4, generator=g)),
        "fake_logits": _t(lambda g: torch.randn(4, 1, generator=g)),
    },
    "generator_loss": {
        "fake_logits": _t(lambda g: torch.randn(4, generator=g)),
        "kind": st.sampled_from(["non_saturating", "minimax"]),
    },
    "iwae_bound": {
        "log_px_given_z": _t(lambda g: torch.randn(2, 3, generator=g)),
        "z": _t(lambda g: torch.randn(2, 3, 2, generator=g)),
    },
    "kl_anneal_weight": {"step": st.integers(0, 100), "anneal_steps": st.integers(0, 50)},
    "reconstruction_nll": {
        "recon": _t(lambda g: torch.randn(3, 4, generator=g)),
        "target": _t(lambda g: torch.rand(3, 4, generator=g)),
        "kind": _VAE_KIND,
        "log_sigma": st.sampled_from([0.0, 0.5]),
    },
    "vae_loss": {
        "recon_logits_or_mean": _t(lambda g: torch.randn(3, 4, generator=g)),
        "target": _t(lambda g: torch.rand(3, 4, generator=g)),
        "kind": _VAE_KIND,
        "log_sigma": st.sampled_from([0.0, 0.5]),
    },
}


# ------------------------------------------------------------------------------------------- train
def _train_setup():
    """(model, optimizer) sharing parameters: a 2 → 1 linear regression."""
    warm_optimizers()
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def _get_batch(step):
    g = torch.Generator().manual_seed(step)
    x = torch.randn(4, 2, generator=g)
    return x, x.sum(1, keepdim=True)


def _mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


_SETUP = st.shared(_s(_train_setup), key="train_setup")


def _saved_checkpoint(name="fuzz_ckpt.pt"):
    from course_lib.train import save_checkpoint

    model = _tiny_gpt()
    save_checkpoint(name, model, config={"n": 1}, extra={"note": "fuzz"})
    return name


_TRAIN = {
    "checkpoint_digest": {
        "state_dict": _s(lambda: torch.nn.Linear(2, 1).state_dict()),
        "config": st.just({"n_embd": 8, "kind": "gpt"}),
        "extra": st.just({"history": [1.0, None], "names": ("a", "b")}),
    },
    "cosine_schedule": {
        "base_lr": st.floats(1e-4, 1e-2),
        "steps": st.integers(1, 100),
        "warmup": st.integers(0, 10),
        "min_lr": st.floats(0.0, 1e-5),
    },
    "evaluate_lm": {
        "model": _s(_tiny_gpt),
        "data": _s(lambda: torch.arange(40) % 20),
        "block_size": st.integers(1, 8),
        "batch_size": st.integers(1, 8),
        "stride": st.none() | st.just(1),
    },
    "lm_cross_entropy": {
        "logits": _t(lambda g: torch.randn(2, 3, 5, generator=g)),
        "targets": _t(lambda g: torch.randint(0, 5, (2, 3), generator=g)),
    },
    "load_checkpoint": {
        "path": _s(_saved_checkpoint),
        "model": st.none() | _s(_tiny_gpt),
        "verify": st.booleans(),
    },
    "nats_to_bits": {"nats": st.floats(0.0, 10.0)},
    "WeightAverage": {"model": _s(_tiny_gpt), "decay": st.floats(0.0, 0.9999)},
    "save_checkpoint": {
        "path": st.just("fuzz_saved.pt"),
        "model": _s(_tiny_gpt),
        "config": st.none() | st.just({"n_embd": 8}),
        "extra": st.none() | st.just({"step": 3}),
    },
    "train": {
        "model": _SETUP.map(lambda p: p[0]),
        "optimizer": _SETUP.map(lambda p: p[1]),
        "get_batch": st.just(_get_batch),
        "loss_fn": st.just(_mse),
        "steps": st.integers(1, 3),
        "log_every": st.integers(1, 2),
        "desc": st.just("fuzz"),
        "compile": st.just(False),  # compiling takes tens of seconds: test_fast_path covers compile=True
        "bf16": st.sampled_from([False, "auto"]),
    },
}


# -------------------------------------------------------------------------------------------- data
_DATA = {
    "CharTokenizer": {"chars": st.sampled_from(["abc", ["a", "b", " "], "hello"]), "unk": st.none() | st.just("?")},
    "get_lm_batch": {"data": _s(lambda: torch.arange(40) % 20), "device": st.none()},
    "load_text": {"path": st.sampled_from([SMALL_DATA, "sentiment_labelled_sentences/amazon_cells_labelled.txt"])},
    "sha256_file": {"path": st.builds(lambda: _data_file(SMALL_DATA))},
    "train_val_split": {"seq": st.just(list(range(10))), "train_frac": st.floats(0.1, 0.9)},
    "update_checksums": {"paths": st.builds(lambda: [_data_file(SMALL_DATA)])},
    "verify_file": {"path": st.sampled_from([SMALL_DATA, "tinyshakespeare/README.md"])},
    "read_checksums": {"sums_file": st.builds(lambda: _data_file("SHA256SUMS"))},
}


# --------------------------------------------------------------------------------------- sentiment
def _sentiment_df(n_per_group=3):
    rows = []
    for source in ("amazon", "imdb"):
        for label in (0, 1):
            for i in range(n_per_group):
                rows.append((SENTENCES[(i + label) % len(SENTENCES)], label, source))
    return pd.DataFrame(rows, columns=["text", "label", "source"])


def _classifier(kind="bow"):
    from course_lib.sentiment import make_classifier

    warm_optimizers()
    return make_classifier(kind, _word_tok(), seed=0, n_embd=4, n_hidden=4)


def _xy():
    from course_lib.sentiment import encode

    ids, mask = encode(_word_tok(), SENTENCES, max_len=8)
    return ids, mask, torch.tensor([1, 1, 0, 1, 1, 0])


def _splits():
    from course_lib.sentiment import stratified_split

    return stratified_split(_sentiment_df(5), seed=0)


def _results():
    return pd.DataFrame(
        {"model": ["bow", "bow", "mean"], "init": ["random"] * 3, "seed": [0, 1, 0], "val_acc": [0.7, 0.8, 0.6]}
    ).assign(test_acc=[0.75, 0.7, 0.65])


_SENTIMENT = {
    "stratified_split": {"df": _s(_sentiment_df), "fractions": st.just((0.6, 0.2, 0.2))},
    "build_tokenizer": {"texts": st.just(SENTENCES), "glove": st.none() | _s(_word_vectors)},
    "encode": {"tokenizer": _s(_word_tok), "texts": st.just(SENTENCES), "max_len": st.integers(1, 10)},
    "glove_matrix": {"tokenizer": _s(_word_tok), "glove": _s(_word_vectors)},
    "make_classifier": {
        "kind": st.sampled_from(["bow", "mean", "max", "bilstm", "attention"]),
        "tokenizer": _s(_word_tok),
        "glove": st.none(),
        "n_embd": st.sampled_from([4, 8]),
        "n_hidden": st.integers(1, 8),
    },
    "predict_proba": {
        "model": _s(_classifier),
        "ids": _s(lambda: _xy()[0]),
        "mask": _s(lambda: _xy()[1]),
        "batch_size": st.integers(1, 8),
    },
    "fit_classifier": {
        "model": _s(_classifier),
        "train_xy": _s(_xy),
        "val_xy": _s(_xy),
        "epochs": st.integers(1, 2),
        "batch_size": st.integers(2, 6),
        "desc": st.just("fuzz"),
    },
    "compare_models": {
        "splits": _s(_splits),
        "glove": _s(_word_vectors),
        "kinds": st.just(("bow",)),
        "seeds": st.just((0,)),
        "epochs": st.just(1),
    },
    "summarise": {"results": _s(_results), "n_test": st.integers(1, 600)},
    "paired_bootstrap": {
        "correct_a": _s(lambda: torch.tensor([1.0, 0.0, 1.0, 1.0])),
        "correct_b": _s(lambda: torch.tensor([0.0, 0.0, 1.0, 0.5])),
        "n_boot": st.integers(1, 50),
    },
}


# -------------------------------------------------------------------------------------- embeddings
def _corpus():
    from course_lib.embeddings import build_corpus

    return build_corpus(WORDS * 3 + ["the", "cat"] * 5, min_count=1)


_EMBEDDINGS = {
    "WordVectors": {"words": st.just(list(WORDS)), "vectors": _t(lambda g: torch.randn(len(WORDS), 4, generator=g))},
    "analogy_accuracy": {"questions": st.just([("man", "woman", "king", "queen"), ("cat", "dog", "mat", "food")])},
    "category_accuracy": {"categories": st.just({"animals": ["cat", "dog"], "royals": ["king", "queen"]})},
    "gender_analogies": {"pairs": st.just([("man", "woman"), ("king", "queen")])},
    "ppmi_svd": {"corpus": _s(_corpus), "dim": st.integers(1, 4), "window": st.integers(1, 3)},
    "train_skipgram": {
        "corpus": st.builds(lambda c: (warm_optimizers(), c)[1], _s(_corpus)),
        "n_embd": st.integers(1, 4),
        "window": st.integers(1, 2),
        "epochs": st.sampled_from([0.5, 1.0]),
        "batch_size": st.integers(8, 32),
        "desc": st.just("fuzz"),
    },
}


# ------------------------------------------------------------------------------------- beam_search
V_TOY = 5
_TABLE = torch.log_softmax(torch.randn(V_TOY, V_TOY, generator=torch.Generator().manual_seed(0)), -1)


def _toy_step(tokens, state):
    """A decoder whose next-token log-probabilities depend on the last token only; state passes through.

    Like the course's models, it checks its token ids (a bos_id outside its vocabulary is refused there).
    """
    from course_lib.checks import check_token_ids

    return _TABLE[check_token_ids(tokens, "tokens", V_TOY)], state


_BEAM = {
    "Hypothesis": {
        "tokens": st.just((1, 2)),
        "score": st.floats(-5, 0),
        "finished": st.booleans(),
        "ranking": st.floats(-5, 0),
    },
    "select_rows": {
        "state": _s(lambda: (torch.arange(6.0).view(3, 2), {"h": torch.zeros(3, 1)})),
        "index": st.just(torch.tensor([2, 0])),
    },
    "greedy_search": {
        "step": st.just(_toy_step),
        "state": _s(lambda: torch.zeros(2, 1)),
        "batch_size": st.just(2),
        "bos_id": st.integers(0, V_TOY - 1),
        "eos_id": st.integers(0, V_TOY - 1),
        "max_len": st.integers(1, 6),
    },
    "beam_search": {
        "step": st.just(_toy_step),
        "state": _s(lambda: torch.zeros(2, 1)),
        "batch_size": st.just(2),
        "bos_id": st.integers(0, V_TOY - 1),
        "eos_id": st.integers(0, V_TOY - 1),
        "max_len": st.integers(1, 6),
        "beam_size": st.integers(1, 3),
        "length_penalty": st.floats(0.0, 1.0),
        "n_best": st.none() | st.just(1),
    },
}


# ----------------------------------------------------------------------------------------- char_lm
def _char_data():
    tok = _char_tok()
    ids = torch.tensor(tok.encode("ROMEO: the cat sat on the mat. " * 4), dtype=torch.long)
    return tok, ids[:100], ids[100:]


def _tiny_recipes():
    base = {"steps": 2, "batch_size": 2, "block_size": 8, "lr": 1e-3, "min_lr": 1e-4, "warmup": 0}
    return {
        "lstm": {**base, "model": {"n_embd": 4, "n_hidden": 8, "n_layer": 1}, "weight_decay": 0.0, "grad_clip": 1.0},
        "gpt": {**base, "model": {"n_layer": 1, "n_head": 2, "n_embd": 8}, "weight_decay": 0.1, "grad_clip": 1.0},
    }


def _saved_char_lm(name="fuzz_char_lm.pt"):
    from course_lib.char_lm import save_char_lm

    history = pd.DataFrame({"step": [0, 1], "train_loss": [3.0, float("nan")]})
    save_char_lm(name, _tiny_gpt(), _char_tok(), history, {"kind": "gpt"})
    return name


_CHAR_LM = {
    "build_model": {"kind": st.sampled_from(["lstm", "gpt"]), "vocab_size": st.integers(2, 20)},
    "train_char_lm": {
        "kind": st.sampled_from(["lstm", "gpt"]),
        "steps": st.integers(1, 2),
        "data": _s(lambda: (warm_optimizers(), _char_data())[1]),
        "recipes": _s(_tiny_recipes),
        "eval_tokens": st.integers(8, 16),
    },
    "save_char_lm": {
        "path": st.just("fuzz_char_lm_saved.pt"),
        "model": _s(_tiny_gpt),
        "tokenizer": _s(_char_tok),
        "history": _s(lambda: pd.DataFrame({"step": [0, 1], "train_loss": [3.0, 2.5]})),
        "info": st.just({"kind": "gpt", "steps": 2}),
    },
    "load_char_lm": {"kind_or_path": _s(_saved_char_lm), "verify": st.just(False)},
}


# ------------------------------------------------------------------------------------- the rest
_OTHER = {
    "course_lib.attention.softmax_saturation": {
        "dims": st.sampled_from([(4, 16), (8,)]),
        "n_keys": st.integers(1, 16),
        "n_queries": st.integers(1, 64),
    },
    "course_lib.attention.causal_mask": {"T_q": st.integers(0, 6), "T_k": st.none() | st.integers(6, 8)},
    "course_lib.attention.scaled_dot_product_attention": {
        "q": _t(lambda g: torch.randn(2, 3, 4, generator=g)),
        "k": _t(lambda g: torch.randn(2, 5, 4, generator=g)),
        "v": _t(lambda g: torch.randn(2, 5, 6, generator=g)),
        "mask": st.none() | _s(lambda: torch.ones(3, 5, dtype=torch.bool).tril(2)),
        "scale": st.none() | st.floats(0.1, 2.0),
        "dropout_p": st.sampled_from([0.0, 0.2]),
    },
    "course_lib.attention.head_pattern_scores": {
        "maps": _s(lambda: [torch.softmax(torch.randn(1, 2, 4, 4), -1)]),
        "ids": st.none() | _s(lambda: torch.tensor([[0, 1, 0, 2]])),
        "space_ids": st.sampled_from([(), (1,)]),
    },
    "course_lib.bpe.gpt2_chars_to_bytes": {"token": st.sampled_from(["hello", "Ġthe", "Ċ", "é"])},
    "course_lib.bpe.learn_merges": {
        "word_counts": st.just({(104, 101, 108, 108, 111): 3, (104, 101, 108, 112): 2, (97, 98): 1}),
        "n_merges": st.integers(0, 5),
        "min_frequency": st.integers(1, 3),
    },
    "course_lib.generate.strategy_kwargs": {
        "strategy": st.sampled_from(["greedy", "sample", "top-k", "top-p"]),
        "top_p": st.floats(0.1, 1.0),
    },
    "course_lib.ngram.KneserNeyLM": {
        "order": st.integers(0, 4),
        "vocab_size": st.integers(1, 30),
        "discount": st.none() | st.floats(0.1, 1.0),
    },
    "course_lib.nn_utils.mlp": {
        "n_in": st.integers(1, 4),
        "n_hidden": st.integers(1, 8),
        "n_out": st.integers(1, 4),
        "n_layer": st.integers(1, 3),
        "act": st.sampled_from([torch.nn.ReLU, torch.nn.Tanh]),
    },
    "course_lib.nn_utils.make_adamw": {"model": _s(_tiny_gpt), "betas": st.just((0.9, 0.99))},
    "course_lib.plots.figure_to_png": {
        "fig": _s(lambda: __import__("matplotlib.pyplot").pyplot.figure(figsize=(1, 1)))
    },
    "course_lib.plots.labelled_scatter": {
        "points": _t(lambda g: torch.randn(3, 2, generator=g)),
        "labels": st.just(["a", "b", "c"]),
        "hue": st.none() | st.just(["x", "y", "x"]),
        "figsize": st.just((2, 2)),
    },
    "course_lib.plots.heatmap": {"fmt": st.sampled_from([".2f", ".1%"]), "figsize": st.none() | st.just((2, 2))},
    "course_lib.plots.plot_history": {
        "y": st.sampled_from([None, "train_loss", ["train_loss"]]),
        "x": st.just("step"),
        "baselines": st.none() | st.just({"n-gram": 2.1}),
    },
    "course_lib.plots.bar_with_errors": {
        "table": _s(lambda: pd.DataFrame({"model": ["a", "b"], "acc": [0.5, 0.7], "ci": [0.05, 0.1]})),
        "x": st.just("model"),
        "y": st.just("acc"),
        "err": st.none() | st.just("ci"),
        "hue": st.none() | st.just("model"),
    },
    "course_lib.pooling.mean_pool": {
        "x": _t(lambda g: torch.randn(2, 3, 4, generator=g)),
        "mask": _s(lambda: torch.tensor([[True, True, False], [True, False, False]])),
    },
    "course_lib.pooling.max_pool": {
        "x": _t(lambda g: torch.randn(2, 3, 4, generator=g)),
        "mask": _s(lambda: torch.tensor([[True, True, False], [True, False, False]])),
    },
    "course_lib.toy_data.spiral_curve": {"t": _s(lambda: torch.linspace(0, 1, 5))},
    # baselines for items that were fuzzed for their argument checks only (registry.VALIDATION_ONLY)
    "course_lib.losses.article_encoder_loss": {
        "x": _t(lambda g: torch.randn(3, 2, generator=g)),
        "z": _t(lambda g: torch.randn(3, 2, generator=g)),
    },
    "course_lib.generate.gumbel_softmax_sample": {"logits": _t(lambda g: torch.randn(10, generator=g))},
    "course_lib.embeddings.ppmi": {"counts": _t(lambda g: torch.rand(4, 4, generator=g) * 5)},
    "course_lib.embeddings.skipgram_pairs": {"ids": _s(lambda: torch.arange(12) % 5)},
    "course_lib.embeddings.cooccurrence_matrix": {
        "ids": _s(lambda: torch.arange(12) % 5),
        "vocab_size": st.integers(5, 10),
    },
    "course_lib.embeddings.build_corpus": {"words": st.just(WORDS * 2)},
    "course_lib.embeddings.parse_glove": {"text": st.sampled_from(["cat 0.1 0.2\ndog 0.3 -0.4\n", "a 1\n"])},
    "course_lib.sentiment.parse_labelled_lines": {"text": st.just("a good film\t1\nbad\t0\n")},
    "course_lib.attention.apply_rotary": {"x": _t(lambda g: torch.randn(1, 2, 3, 4, generator=g))},
    "course_lib.attention.entropy": {"dim": st.sampled_from([-1, 0, 1, 2])},
    "course_lib.attention.padding_mask": {"lengths": st.just([3, 5]), "T": st.integers(5, 8)},
    "course_lib.ngram.ngram_sample_text": {
        "models": _s(lambda: _ngram_models()),
        "n": st.sampled_from([1, 2]),
        "length": st.integers(0, 8),
    },
}


def _figure():
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(1, 1))


def _ngram_models():
    from course_lib.ngram import KneserNeyLM

    tok = _char_tok()
    ids = np.array(tok.encode("ROMEO: the cat sat on the mat.\nJULIET: the dog ate the food!\n"))
    return {n: KneserNeyLM(n, tok.vocab_size).fit(ids) for n in (1, 2)}


POOL_EXTRA: dict = {}
OVERRIDES_EXTRA: dict[str, dict] = {
    **{f"course_lib.losses.{k}": v for k, v in _LOSSES.items()},
    **{f"course_lib.train.{k}": v for k, v in _TRAIN.items()},
    **{f"course_lib.data.{k}": v for k, v in _DATA.items()},
    **{f"course_lib.sentiment.{k}": v for k, v in _SENTIMENT.items()},
    **{f"course_lib.embeddings.{k}": v for k, v in _EMBEDDINGS.items()},
    **{f"course_lib.beam_search.{k}": v for k, v in _BEAM.items()},
    **{f"course_lib.char_lm.{k}": v for k, v in _CHAR_LM.items()},
    **_OTHER,
}
ONLY_MUTATE_EXTRA: dict[str, list[str]] = {}
