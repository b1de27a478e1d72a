"""Valid arguments for the fuzzing suite: part c (merged into pool.POOL / OVERRIDES / ONLY_MUTATE).

Split from pool.py so that separate parts of the course can be added without touching one file; the
names here follow pool.py's conventions (a builder returning a hypothesis strategy; OVERRIDES keyed by
"module.name").

Part c: the labs (course_lib.labs.*), the code behind each notebook's experiments and panels.
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

POOL_EXTRA: dict = {}
OVERRIDES_EXTRA: dict[str, dict] = {}
ONLY_MUTATE_EXTRA: dict[str, list[str]] = {}


def _s(value_fn):
    """A strategy that builds a fresh value each draw."""
    return st.builds(value_fn)


def _lab(name: str, overrides: dict) -> None:
    """Add ``{item: {param: strategy}}`` of course_lib.labs.``name``."""
    for item, params in overrides.items():
        OVERRIDES_EXTRA[f"course_lib.labs.{name}.{item}"] = params


# ---------------------------------------------------------------------------------------- review (13)
def _fake_results() -> dict:
    """A small results dict in the format of docs/results/*.json (as tests/test_13_review.py writes one)."""
    return {
        "01.baseline_bits": {"value": 2.0, "fmt": ".3f"},
        "01.baseline_order": {"value": 6, "fmt": "d"},
        "01.mlp_val_bits": {"value": 2.5, "fmt": ".3f"},
        "01.orders": {
            "columns": ["n", "val bits/char"],
            "rows": [[0, 6.0], [1, 4.8], [2, 3.6], [6, 2.0]],
            "formats": {"val bits/char": ".3f"},
        },
        "12.scaling_alpha": {"value": 0.05, "fmt": ".3f"},
    }


def _recorded(missing=False):
    from course_lib.labs.review import Recorded

    return Recorded("01.baseline_bits", missing=True) if missing else Recorded("01.baseline_bits", 2.0, ".3f")


def _source(code="x = 1"):
    from course_lib.source import Source

    return Source(code, "a snippet")


def _question(i):
    from course_lib.quiz import QUESTIONS

    return QUESTIONS[i]


_RESULTS = st.none() | _s(_fake_results) | st.just({})
_lab(
    "review",
    {
        "Recorded": {"key": st.sampled_from(["01.baseline_bits", "12.scaling_alpha"]), "value": st.floats(0, 5)},
        "SideBySide": {
            "left": _s(_source),
            "right": _s(lambda: [_source("y = 2"), _source("z = 3")]),
            "titles": st.just(("Keras", "PyTorch")),
        },
        "bullet": {
            "topic": st.sampled_from(["counting", "the GPT"]),
            "needed": st.builds(lambda m: [_recorded(m)], st.booleans()),
            "write": st.just(lambda: "* a bullet"),
        },
        "skipped": {"topic": st.just("counting"), "needed": st.builds(lambda: [_recorded(True), _recorded()])},
        "faq_answer": {"section": st.sampled_from(["9.1", "9.2", "9.3", "9.4", "9.5"]), "results": _RESULTS},
        "nb_link": {"number": st.sampled_from(["03", "12", "13"]), "text": st.none() | st.just("the notebook")},
        "plot_loss_ladder": {
            "ladder": st.builds(lambda r: __import__("course_lib.labs.review").labs.review.loss_ladder(r), _RESULTS)
        },
        "quiz_panel": {"question": st.sampled_from(["9.1a", "9.1b", "9.4b", "7.1a"]), "results": _RESULTS},
        "verdict_html": {
            "q": st.builds(_question, st.sampled_from([0, 2, 3])),
            "answer": st.sampled_from([0, 1]),
            "results": _RESULTS,
        },
        "recorded": {"key": st.sampled_from(["01.baseline_bits", "12.scaling_alpha", "03.best_model"])},
        "recorded_cell": {
            "key": st.just("01.orders"),
            "row": st.sampled_from([{"n": 0}, {"n": 2}]),
            "column": st.just("val bits/char"),
            "results": _s(_fake_results),
        },
        "torch_reference_count": {
            "vocab_size": st.integers(1, 100),
            "embedding_dim": st.integers(1, 16),
            "hidden_size": st.integers(1, 16),
        },
        "loss_ladder": {"results": _RESULTS},
        "missing_results": {"results": _RESULTS},
        "quoted_table": {"results": _RESULTS},
    },
)


# ------------------------------------------------------------------------- tour (00), ngram (01), embeddings (02)
def _kn_models():
    from pool import TEXT, char_tok

    from course_lib.ngram import KneserNeyLM

    tok = char_tok()
    ids = tok.encode(TEXT * 2)
    return {n: KneserNeyLM(n, tok.vocab_size).fit(ids) for n in (1, 2)}


_PLAY = "ROMEO:\nHi there.\nHow now?\n\nJULIET:\nHello.\n\n" * 2
_GROUPS = {"animals": ["cat", "dog"], "royal": ["king", "queen"], "people": ["man", "woman"]}
_lab(
    "tour",
    {
        "speaker_report": {
            "name": st.sampled_from(["ROMEO", "juliet"]),
            "counts": st.none(),
            "n_lines": st.integers(0, 3),
            "text": st.just(_PLAY),
        }
    },
)
_lab("ngram", {"ngram_sampler_panel": {"models": _s(_kn_models)}})
_lab(
    "embeddings",
    {
        "scatter_panel": {"groups": st.just(_GROUPS), "chosen": st.none() | st.just(["animals", "royal"])},
        "word_groups_figure": {
            "groups": st.just(_GROUPS),
            "chosen": st.sampled_from([["animals"], ["royal", "people"]]),
        },
    },
)


# ----------------------------------------------------------------------------------- context (03), exercises
def _classifier(kind="mean"):
    from course_lib import sentiment as S

    tok = S.build_tokenizer(["good food", "bad service", "the food was not good"])
    return S.make_classifier(kind, tok, seed=0, n_embd=4, n_hidden=4), tok


def _sentence_models():
    return {"mean": _classifier("mean"), "bow": _classifier("bow")}


_lab(
    "context",
    {
        "explain_sentence": {
            "model": st.builds(lambda k: _classifier(k)[0], st.sampled_from(["mean", "bow", "attention"])),
            "tokenizer": st.builds(lambda: _classifier("bow")[1]),
            "sentence": st.sampled_from(["good food", "the service was bad", "good good zzz"]),
        },
        "sentence_panel": {"models": _s(_sentence_models), "sentence": st.sampled_from(["good food", "bad"])},
    },
)


def _keras_count(v, d, h):
    """Exercise 13.1's answer (the tests run with COURSE_EXERCISES_STRICT=1: a wrong answer fails on purpose)."""
    return v * d + 4 * h * (d + h + 1) + h * v + v


# check(id, answer): any answer is the learner's code, graded (a Hint) or, under the test command's strict mode,
# an AssertionError on purpose; so only the exercise id is given bad values.
ONLY_MUTATE_EXTRA["course_lib.labs.exercises.check"] = ["id"]
_lab(
    "exercises",
    {
        "Exercise": {
            "id": st.just("13.9"),
            "expects": st.just("a number"),
            "check": st.just(lambda answer: None),
            "wrong": st.just(lambda: 0),
        },
        "Result": {"id": st.just("13.1"), "correct": st.booleans(), "message": st.sampled_from(["Correct.", "<b>"])},
        "check": {"id": st.just("13.1"), "answer": st.just(_keras_count)},
        "exercise": {
            "id": st.sampled_from(["13.7", "05.9"]),
            "expects": st.just("a number"),
            "wrong": st.just(lambda: 0),
        },
        "load": {"id": st.sampled_from(["13.1", "01.1", "02.1"])},
    },
)


# ---------------------------------------------------------------------------------------- generation (05)
@functools.cache
def warm_optimizer() -> None:
    """Build one AdamW: PyTorch imports torch._dynamo on the first optimizer of a process (seconds, once),
    which must not count against the first fuzzed call of a training function."""
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])


@functools.cache
def warm_plots() -> None:
    """Draw one heatmap: the first figure of a process imports and caches seaborn's and matplotlib's machinery
    (seconds on a busy machine, once), which must not count against the first fuzzed call that draws."""
    import matplotlib.pyplot as plt
    import numpy as np

    from course_lib.plots import heatmap

    heatmap(np.eye(2), xticklabels=["a", "b"], yticklabels=["a", "b"])
    plt.close("all")


def _warm(value_fn):
    """A strategy like :func:`_s`, with the optimizer machinery imported before the timed call."""

    def build():
        warm_optimizer()
        return value_fn()

    return st.builds(build)


def _gpt_models():
    from pool import tiny_gpt

    return {"GPT": tiny_gpt(block_size=16).eval()}


def _curves():
    import pandas as pd

    h = pd.DataFrame({"step": [0, 10, 20], "val_loss": [3.0, 2.5, 2.2]})
    return {"GPT live": h, "GPT shipped": h.assign(val_loss=h.val_loss - 0.2), "LSTM live": h}


_lab(
    "generation",
    {
        "render_generation": {
            "models": _s(_gpt_models),
            "model": st.just("GPT"),
            "prompt": st.sampled_from(["the ", "ROMEO:\\n"]),
            "strategy": st.sampled_from(["greedy", "sample", "top-k", "top-p"]),
            "temperature": st.floats(0.5, 1.5),
            "length": st.integers(1, 8),
            "seed": st.integers(0, 100),
        },
        "sampling_panel": {"models": _s(_gpt_models), "length": st.integers(10, 20)},
        "seed_agreement": {
            "temperatures": st.just((1.0,)),
            "length": st.integers(1, 4),
            "seeds": st.just(range(1)),
        },
        "dynamics_run": {
            "train_ids": _warm(lambda: __import__("pool").ids_tensor(64)),
            "schedule": st.sampled_from(["cosine", "constant"]),
            "block_size": st.integers(2, 8),
            "n_embd": st.just(8),
            "n_layer": st.just(1),
            "steps": st.just(1),
            "eval_every": st.just(1),
            "eval_tokens": st.integers(8, 16),
        },
        "plot_model_curves": {
            "curves": _s(_curves),
            "x": st.just("step"),
            "ngram": st.none() | st.just(2.0),
            "title": st.just("curves"),
        },
        "nucleus_by_previous": {
            "sizes": st.just([1, 2, 3, 2]),
            "previous": st.just("ab a"),
            "min_count": st.integers(1, 2),
        },
        "record_nucleus": {"prompt": st.sampled_from(["the ", "ROMEO:"]), "n": st.integers(1, 5)},
    },
)


# ---------------------------------------------------------------------------------------------- gan (07)
def _snapshots(seed=0):
    import numpy as np

    g = np.random.default_rng(seed)
    return {0: g.normal(size=(40, 2)), 10: 2 * g.normal(size=(40, 2))}


def _gan_config():
    from course_lib.models.gan import GANConfig

    return GANConfig(latent_dim=2, n_hidden=8)


_lab(
    "gan",
    {
        "train_gan": {
            "kind": st.sampled_from(["non_saturating", "minimax", "article"]),
            "steps": _warm(lambda: 2),
            "batch_size": st.integers(2, 16),
            "snapshot_every": st.integers(1, 2),
            "n_eval": st.integers(8, 32),
            "config": _s(_gan_config),
        },
        "plot_snapshot_grid": {
            "runs": st.builds(lambda: {"a": _snapshots(0), "b": _snapshots(1)}),
            "steps": st.none() | st.just([10]),
        },
        "snapshot_panel": {"runs": st.builds(lambda: {"a": _snapshots(0)})},
        "mode_history": {"snapshots": _s(_snapshots)},
        "discriminator_loss_table": {"d_real": st.floats(0.01, 0.99), "d_fake": st.floats(0.01, 0.99)},
        "gumbel_softmax_study": {
            "logits": _s(lambda: __import__("torch").tensor([1.0, 0.0, -1.0])),
            "reward": _s(lambda: __import__("torch").tensor([1.0, 0.0, 0.5])),
            "taus": st.just([0.5, 1.0]),
            "n": st.integers(2, 50),
        },
    },
)


# ---------------------------------------------------------------------------------------- attention (04)
def _maps(text="the cat"):
    import torch
    from pool import char_tok, tiny_gpt

    with torch.no_grad():
        maps = tiny_gpt(block_size=16).eval().attention_maps(torch.tensor([char_tok().encode(text)]))
    return [m[0] for m in maps]


_lab(
    "attention",
    {
        "grad_norms_by_layer": {
            "x": _s(lambda: __import__("pool").ids_tensor(6).reshape(1, -1)),
            "y": _s(lambda: __import__("pool").ids_tensor(7)[1:].reshape(1, -1)),
        },
        "loss_by_position": {
            "ids": _s(lambda: __import__("pool").ids_tensor(40)),
            "T": st.integers(1, 6),
            "n_windows": st.integers(1, 4),
        },
        "saturation_panel": {"n_keys": st.integers(1, 12), "seed": st.integers(0, 100)},
        "head_figure": {
            "maps": _s(_maps),
            "text": st.just("the cat"),
            "layer": st.just(0),
            "head": st.integers(0, 1),
        },
        "attention_viewer_panel": {
            "model": _s(lambda: (warm_plots(), __import__("pool").tiny_gpt(block_size=16).eval())[1]),
            "passages": st.just({"one": "the cat sat", "two": "ROMEO: hi"}),
            "max_chars": st.integers(2, 64),
        },
        "train_gpt": {
            "train_ids": _warm(lambda: __import__("pool").ids_tensor(64)),
            "steps": st.integers(0, 1),
            "batch_tokens": st.integers(8, 32),
            "context": st.integers(2, 8),
            "warmup": st.integers(0, 1),
            "eval_tokens": st.integers(8, 16),
            "n_layer": st.just(1),
        },
    },
)


# ------------------------------------------------------------------------------------------- scale (12)
def _runs():
    rows = []
    for i, n in enumerate([1e4, 3e4, 1e5, 3e5]):
        rows.append(
            {
                "set": "same tokens" if i < 3 else "same compute",
                "size": f"s{i}",
                "params": int(n * 1.2),
                "params_non_embedding": int(n),
                "tokens": 10**6,
                "flops": 6 * n * 10**6,
                "train_seconds": 10.0 + i,
                "val_loss": 2.0 * n**-0.05 + 0.1 * i,
            }
        )
    return rows


def _fits():
    import numpy as np

    from course_lib.scaling import fit_power_law, fit_power_law_with_floor

    x = np.array([1e4, 3e4, 1e5, 3e5])
    y = 1.0 + 3.0 * x**-0.2
    return fit_power_law(x, y), fit_power_law_with_floor(x, y, grid=20)


def _exposure_extra():
    exposures = [
        {"insertions": k, "secret": "123456", "rank": 10 - k, "exposure": 1.0 + k, "exposure_skewnormal": 1.1 + k}
        for k in (0, 1, 10)
    ]
    return {"plain": {"dp": False, "exposures": exposures}, "dp": {"dp": True, "epsilon": 8.0, "exposures": exposures}}


def _exposure_frame():
    from course_lib.labs.scale import exposure_frame

    return exposure_frame(_exposure_extra())


def _probe_frame():
    import pandas as pd

    return pd.DataFrame(
        [
            {"task": t, "labels": lab, "layer": layer, "test_acc": 0.5 + 0.1 * layer, "majority": 0.5}
            for t in ("vowel", "space")
            for lab in ("property", "control")
            for layer in (0, 1)
        ]
    )


def _embedding_classifier():
    return _classifier("mean")


_lab(
    "scale",
    {
        "scaling_table": {"runs": _s(_runs), "peak_flops": st.none() | st.just(1e10)},
        "plot_scaling": {
            "table": st.builds(lambda: __import__("course_lib.labs.scale").labs.scale.scaling_table(_runs())),
            "fit": st.builds(lambda: _fits()[0]),
            "fit_floor": st.builds(lambda: _fits()[1]),
            "x": st.just("non-embedding params"),
        },
        "extrapolation_table": {
            "fit": st.builds(lambda: _fits()[0]),
            "fit_floor": st.builds(lambda: _fits()[1]),
            "params": st.just([1e6, 1e7]),
        },
        "torchrun_command": {"nproc": st.just(1)},
        "exposure_frame": {"models_extra": _s(_exposure_extra)},
        "plot_exposure": {"frame": _s(_exposure_frame), "space": st.just(10**6), "unseen": st.just(1.4)},
        "plot_probes": {"frame": _s(_probe_frame)},
        "probe_study": {
            "model": _warm(lambda: __import__("pool").tiny_gpt(block_size=8).eval()),
            "text": st.just(__import__("pool").TEXT),
            "n_train": st.integers(4, 8),
            "n_test": st.integers(2, 4),
        },
        "head_ablation": {
            "model": _s(lambda: __import__("pool").tiny_gpt(block_size=8).eval()),
            "val_ids": _s(lambda: __import__("pool").ids_tensor(32)),
            "eval_tokens": st.integers(8, 16),
        },
        "attribution_html": {
            "model": st.builds(lambda k: _classifier(k)[0], st.sampled_from(["mean", "attention"])),
            "tokenizer": st.builds(lambda: _classifier("bow")[1]),
            "sentence": st.sampled_from(["good food", "the service was bad"]),
            "n_steps": st.integers(1, 4),
        },
        "attribution_panel": {
            "model": st.builds(lambda: _classifier("mean")[0]),
            "tokenizer": st.builds(lambda: _classifier("bow")[1]),
            "sentences": st.just(["good food", "bad service"]),
        },
        "ig_check": {
            "model": st.builds(lambda: _classifier("mean")[0]),
            "ids": _s(lambda: __import__("torch").tensor([[2, 3, 4]])),
            "mask": _s(lambda: __import__("torch").ones(1, 3, dtype=__import__("torch").bool)),
            "n_steps": st.integers(1, 4),
        },
    },
)


# ---------------------------------------------------------------------------------------------- vae (06)
SENTENCES = ["tom is happy .", "mary is sad .", "the cat sat on the mat .", "i am hungry ."]


def _points(n=16, seed=0):
    import torch

    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def _toy_vae():
    import torch

    from course_lib.models.vae import ToyVAE, ToyVAEConfig

    torch.manual_seed(0)
    return ToyVAE(ToyVAEConfig(n_hidden=8, latent_dim=2)).eval()


def _toy_ae():
    import torch

    from course_lib.models.vae import ToyAutoencoder

    torch.manual_seed(0)
    return ToyAutoencoder().eval()


def _summary():
    import torch

    from course_lib.labs.vae import summarize_toy_vae

    return summarize_toy_vae(_toy_vae(), _points(), torch.rand(16), n_prior=16, k=4)


@functools.cache
def _sentence_tok():
    from course_lib.data import WordTokenizer

    return WordTokenizer.from_texts(SENTENCES)


def _sentence_data():
    from course_lib.labs.vae import encode_sentences

    return encode_sentences(_sentence_tok(), SENTENCES, max_tokens=7)


def _sentence_config():
    from course_lib.models.vae import SentenceVAEConfig

    return SentenceVAEConfig(_sentence_tok().vocab_size, n_embd=8, n_hidden=8, latent_dim=2)


def _sentence_vae():
    import torch

    from course_lib.models.vae import SentenceVAE

    torch.manual_seed(0)
    return SentenceVAE(_sentence_config()).eval()


_TOY = {"model": _s(_toy_vae), "x": _s(_points)}
_SENT = {"model": _s(_sentence_vae), "tok": st.builds(_sentence_tok)}
_TRAIN = {"x": _warm(_points), "steps": st.integers(1, 2), "batch_size": st.integers(1, 8)}
_lab(
    "vae",
    {
        "toy_vae_loss": {"model": _s(_toy_vae), "batch": st.builds(lambda: {"x": _points(), "beta": 1.0})},
        "train_toy_vae": {**_TRAIN, "config": st.none()},
        "train_article_objective": _TRAIN,
        "train_article_autoencoder": _TRAIN,
        "train_case_study": {"word_vectors": _warm(lambda: _points(6)), "steps": st.integers(1, 2)},
        "toy_log_likelihood": {**_TOY, "k": st.integers(1, 8)},
        "sample_quality": {"samples": _s(_points), "x_val": _s(lambda: _points(8, 1))},
        "summarize_toy_vae": {
            **_TOY,
            "t": _s(lambda: __import__("torch").rand(16)),
            "n_prior": st.integers(1, 16),
            "k": st.integers(1, 4),
        },  # fmt: skip
        "plot_toy_vae": {"summary": _s(_summary), "title": st.just("a toy VAE")},
        "summarize_article_model": {
            "model": _s(_toy_ae),
            "x_val": _s(_points),
            "reading": st.sampled_from(["as printed", "sign fixed, z from the prior", "§4.2.1"]),
        },
        "plot_prior_grid": {"summaries": st.builds(lambda: {"β=1": _summary()}), "title": st.just("grid")},
        "errata_markdown": {"notebook": st.just("06_vae")},
        "beta_panel": {"summaries": st.builds(lambda: {0.5: _summary(), 1.0: _summary()})},
        "encode_sentences": {
            "tok": st.builds(_sentence_tok),
            "sentences": st.just(SENTENCES),
            "max_tokens": st.integers(7, 9),
        },
        "sentence_vae_loss": {"model": _s(_sentence_vae), "batch": _s(_sentence_data)},
        "sentence_vae_metrics": {"model": _s(_sentence_vae), "data": _s(_sentence_data)},
        "train_sentence_vae": {
            "config": _warm(_sentence_config),
            "train_data": _s(_sentence_data),
            "val_data": _s(_sentence_data),
            "steps": st.integers(1, 2),
            "batch_size": st.integers(1, 4),
        },
        "encode_text": {**_SENT, "sentence": st.sampled_from(["tom is happy .", "mary is hungry"])},
        "decode_latent": {**_SENT, "z": _s(lambda: __import__("torch").zeros(2)), "max_len": st.integers(1, 5)},
        "interpolation_table": {
            "models": st.builds(lambda: {"rnn": _sentence_vae()}),
            "tok": st.builds(_sentence_tok),
            "a": st.just("tom is happy ."),
            "b": st.just("mary is sad ."),
            "n_steps": st.integers(1, 3),
        },
        "interpolation_panel": {
            **_SENT,
            "a": st.just("tom is happy ."),
            "b": st.just("i am hungry ."),
            "n_steps": st.integers(1, 4),
        },  # fmt: skip
        "shuffled_pair_check": {**_SENT, "a": st.just("tom is happy ."), "b": st.just("happy is tom .")},
        "order_sensitivity": {"model": _s(_sentence_vae), "data": _s(_sentence_data), "n": st.integers(1, 4)},
    },
)


# -------------------------------------------------------------------------------------- pretraining (11)
@functools.cache
def bpe_tok():
    from pool import TEXT

    from course_lib.pretraining import train_tokenizer

    return train_tokenizer([TEXT, "the food was good and the service was slow ."], vocab_size=270)


def tiny_bert():
    import torch

    from course_lib.models.bert import BERT, BERTConfig

    torch.manual_seed(0)
    return BERT(BERTConfig(vocab_size=bpe_tok().vocab_size, block_size=32, n_layer=1, n_head=2, n_embd=8)).eval()


def _label_runs():
    import pandas as pd
    import torch

    results = pd.DataFrame(
        [{"method": m, "labels": n, "seed": s, "test_acc": 0.6 + 0.01 * s} for m in ("scratch", "fine-tune")
         for n in (50, 100) for s in (0, 1)]
    )  # fmt: skip
    g = torch.Generator().manual_seed(0)
    correct = {(m, n): torch.rand(2, 12, generator=g) > 0.4 for m in ("scratch", "fine-tune") for n in (50, 100)}
    return results, correct


def _label_summary():
    from course_lib.labs.pretraining import summarise_runs

    return summarise_runs(*_label_runs(), n_boot=20)


_MASKED = {"model": _s(tiny_bert), "tokenizer": st.builds(bpe_tok)}
_lab(
    "pretraining",
    {
        "fill_mask": {**_MASKED, "sentence": st.sampled_from(["the food was [MASK] .", "[MASK] cat sat"])},
        "fill_mask_panel": {**_MASKED, "sentence": st.just("the food was [MASK] .")},
        "summarise_runs": {
            "results": st.builds(lambda: _label_runs()[0]),
            "correct": st.builds(lambda: _label_runs()[1]),
            "n_boot": st.integers(1, 20),
        },
        "plot_label_efficiency": {"summary": _s(_label_summary), "anchor": st.none() | st.just(0.7)},
    },
)


# ------------------------------------------------------------------ translation (08), qa (09), recommendation (10)
def _bleu_table():
    import pandas as pd

    return pd.DataFrame(
        [
            {"system": s, "words": w, "sentences": 3, "BLEU": 20.0 + i}
            for s in ("a", "b")
            for i, w in enumerate(["1–4", "5"])
        ]
    )


def _qa_table():
    import pandas as pd

    return pd.DataFrame(
        [
            {"reader": r, "task": t, "seed": s, "accuracy": 50.0 + s}
            for r in ("LSTM", "MemN2N")
            for t in (1, 2)
            for s in (0, 1)
        ]
    )


def _rec_table():
    import pandas as pd

    return pd.DataFrame(
        [{"model": m, "HR@10": 0.5, "HR lo": 0.4, "HR hi": 0.6, "NDCG@10": 0.3, "NDCG lo": 0.2, "NDCG hi": 0.4}
         for m in ("popular", "SASRec")]
    )  # fmt: skip


_lab("translation", {"plot_bleu_by_length": {"table": _s(_bleu_table)}})
_lab("qa", {"plot_accuracy": {"table": _s(_qa_table)}})
_lab("recommendation", {"plot_results": {"table": _s(_rec_table), "title": st.just("results")}})


def _movies():
    import pandas as pd

    return pd.DataFrame({"item": [0, 1, 2], "title": ["Toy Story (1995)", "Matrix, The (1999)", "Heat (1995)"]})


def _stats(n=4, seed=0):
    import numpy as np

    g = np.random.default_rng(seed)
    hyp = g.integers(5, 9, size=(n, 1)).astype(float)
    matches = np.concatenate([hyp - k - g.integers(0, 2, size=(n, 1)) for k in range(4)], axis=1).clip(0)
    totals = np.concatenate([hyp - k for k in range(4)], axis=1)
    return np.concatenate([matches, totals, hyp, hyp + 1], axis=1)


_lab(
    "qa",
    {
        "QARecipe": {"reader": st.sampled_from(["lstm", "memnet1", "memnet3", "transformer"])},
        "checkpoint_path": {"reader": st.just("memnet3"), "task": st.integers(1, 2), "seed": st.integers(0, 2)},
        "support_hit_rate": {
            "attention": _s(lambda: __import__("torch").softmax(__import__("torch").randn(4, 2, 3), -1)),
            "support": _s(lambda: __import__("torch").tensor([[True, False, False]] * 4)),
        },
        "plot_hop_attention": {
            "attention": _s(lambda: __import__("torch").softmax(__import__("torch").randn(2, 3), -1)),
            "story": st.just(["mary went home .", "john is in the garden .", "mary took the milk ."]),
            "supporting": st.just((0, 2)),
            "title": st.none() | st.just("hops"),
        },
    },
)
_lab(
    "recommendation",
    {
        "TitleIndex": {"movies": _s(_movies), "counts": _s(lambda: __import__("numpy").array([10, 5, 3]))},
        "Recommender": {
            "name": st.just("popular"),
            "score": st.just(lambda history: __import__("torch").zeros(3)),
            "reason": st.just(lambda history, item: "popular"),
        },
    },
)
_lab(
    "translation",
    {
        "TranslationRecipe": {"kind": st.sampled_from(["gru", "gru_attention", "gpt"])},
        "bleu_by_length": {
            "stats": st.builds(lambda: {"a": _stats(4, 0), "b": _stats(4, 1)}),
            "lengths": st.just([3, 5, 6, 9]),
        },
        "plot_alignment": {
            "weights": _s(lambda: __import__("torch").softmax(__import__("torch").randn(2, 3), -1)),
            "source_tokens": st.just(["je", "suis", "."]),
            "target_tokens": st.just(["i", "am"]),
            "title": st.none() | st.just("alignment"),
        },
    },
)


@functools.cache
def _babi_questions():
    from course_lib.babi import load_babi

    return tuple(load_babi(1, "test")[:4] + load_babi(2, "test")[:4])


@functools.cache
def babi_tok():
    from course_lib.babi import build_vocabulary

    return build_vocabulary(list(_babi_questions()))


def babi_batch():
    from course_lib.babi import vectorize
    from course_lib.labs.qa import MEMORY_SIZE, SENTENCE_LEN

    return vectorize(list(_babi_questions()), babi_tok(), MEMORY_SIZE, SENTENCE_LEN)


def tiny_reader(kind="memnet1"):
    import torch

    from course_lib.labs.qa import QARecipe, build_reader

    torch.manual_seed(0)
    return build_reader(QARecipe(kind, n_embd=8, n_hidden=8, n_layer=1), babi_tok().vocab_size).eval()


_READER = st.builds(tiny_reader, st.sampled_from(["lstm", "memnet1", "memnet3", "transformer"]))
_lab(
    "qa",
    {
        "build_reader": {
            "recipe": st.builds(
                lambda k: __import__("course_lib.labs.qa").labs.qa.QARecipe(k, n_embd=8, n_hidden=8),
                st.sampled_from(["lstm", "memnet3"]),
            ),
            "vocab_size": st.integers(8, 30),
        },  # fmt: skip
        "reader_forward": {"model": _READER, "batch": _s(babi_batch)},
        "qa_loss": {"model": _READER, "batch": _s(babi_batch)},
        "predict": {"model": _READER, "t": _s(babi_batch), "batch_size": st.integers(1, 8)},
    },
)


def _babi_data():
    batch = babi_batch()
    return {"train": batch, "val": batch, "vocab_size": babi_tok().vocab_size}


def babi_tests():
    qs = _babi_questions()
    return {1: list(qs[:4]), 2: list(qs[4:])}


_lab(
    "qa",
    {
        "answer_question": {
            "model": _READER,
            "tok": st.builds(babi_tok),
            "story": st.builds(lambda: list(_babi_questions()[0].story)),
            "question": st.builds(lambda: _babi_questions()[0].question),
        },
        "story_panel": {
            "models": st.builds(lambda: {"MemN2N": tiny_reader("memnet3")}),
            "tok": st.builds(babi_tok),
            "tests": _s(babi_tests),
        },  # fmt: skip
        "train_reader": {
            "recipe": _warm(
                lambda: __import__("course_lib.labs.qa").labs.qa.QARecipe("memnet1", n_embd=8, batch_size=4)
            ),
            "data": _s(_babi_data),
            "epochs": st.just(1),
        },
        "save_reader": {
            "path": st.just("reader.pt"),
            "model": st.builds(lambda: tiny_reader("lstm")),
            "recipe": st.builds(
                lambda: __import__("course_lib.labs.qa").labs.qa.QARecipe("lstm", n_embd=8, n_hidden=8)
            ),
            "tok": st.builds(babi_tok),
            "history": _s(lambda: __import__("pandas").DataFrame({"step": [0, 1], "loss": [2.0, 1.5]})),
            "info": st.just({"task": 1}),
        },
    },
)


_lab(
    "qa",
    {
        "load_reader": {"reader": st.sampled_from(["lstm", "memnet1"]), "task": st.integers(1, 2), "seed": st.just(0)},
    },
)


def _pairs():
    from course_lib.translation import Pair

    return [Pair("je suis fatigué .", "i am tired ."), Pair("il est grand .", "he is tall ."),
            Pair("je suis grand .", "i am tall .")]  # fmt: skip


def _recipe(kind="gru_attention"):
    from course_lib.labs.translation import TranslationRecipe

    return TranslationRecipe(kind, n_embd=8, n_hidden=8, n_layer=1, n_head=2, min_freq=1)


@functools.cache
def shipped_translator(kind="gru_attention"):
    from course_lib.labs.translation import load_translator
    from course_lib.translation import Translator

    model, toks, *_ = load_translator(kind)
    return Translator(model, *toks)


_lab(
    "translation",
    {
        "build_model": {
            "recipe": _s(_recipe),
            "tokenizers": st.builds(
                lambda: __import__("course_lib.labs.translation").labs.translation.make_tokenizers(_recipe(), _pairs())
            ),
        },  # fmt: skip
        "make_tokenizers": {"recipe": st.builds(_recipe, st.sampled_from(["gru", "gpt"])), "train_pairs": _s(_pairs)},
        "load_translator": {"kind": st.sampled_from(["gru", "gru_attention", "gpt"]), "path": st.none()},
        "evaluate": {
            "translator": st.builds(shipped_translator),
            "pairs": _s(_pairs),
            "beam_size": st.integers(1, 2),
            "length_penalty": st.floats(0.0, 1.0),
        },
        "translation_panel": {
            "translators": st.builds(lambda: {"GRU + attention": shipped_translator()}),
            "example": st.just("je suis fatigué ."),
        },
    },
)


_TITLES = {1: "Toy Story (1995)", 2: "Finding Nemo (2003)", 3: "Matrix, The (1999)", 4: "Heat (1995)",
           5: "Up (2009)"}  # fmt: skip
_GENRES = {1: "Animation|Children", 2: "Animation", 3: "Action|Sci-Fi", 4: "Crime", 5: "Animation|Drama"}


def title_index():
    import numpy as np
    import pandas as pd

    from course_lib.labs.recommendation import TitleIndex

    movies = pd.DataFrame({"item": list(_TITLES), "title": list(_TITLES.values())})
    return TitleIndex(movies, np.array([0, 50, 40, 30, 20, 10]))


def recommenders():
    import torch

    from course_lib.labs.recommendation import Recommender

    def popular(history):
        return torch.tensor([0.0, 5.0, 4.0, 3.0, 2.0, 1.0])

    def recent(history):
        s = torch.zeros(6)
        s[1:] = torch.arange(5, 0, -1).float() * (1 + len(history))
        return s

    return {
        "popular": Recommender("popular", popular, lambda h, i: "many ratings"),
        "recent": Recommender("recent", recent, lambda h, i: f"after {len(h)} movies"),
    }


_lab(
    "recommendation",
    {
        "recommend": {
            "recommender": st.builds(lambda n: recommenders()[n], st.sampled_from(["popular", "recent"])),
            "history": st.sampled_from([[1], [2, 3]]),
            "titles": st.just(_TITLES),
            "genres": st.just(_GENRES),
            "k": st.integers(1, 5),
        },
        "recommendation_panel": {
            "recommenders": _s(recommenders),
            "index": _s(title_index),
            "genres": st.just(_GENRES),
        },
    },
)


# ------------------------------------------------- valid calls for the last NOT_YET and VALIDATION_ONLY items
def _sentiment_splits():
    """A tiny labelled split (notebook 03's columns text, label): 6 training and 4 test sentences."""
    import pandas as pd

    train = pd.DataFrame(
        {"text": ["good food", "great service", "lovely place", "bad food", "slow service", "awful place"],
         "label": [1, 1, 1, 0, 0, 0]}
    )  # fmt: skip
    test = pd.DataFrame({"text": ["good place", "bad service", "great food", "slow food"], "label": [1, 0, 1, 0]})
    return {"train": train, "test": test}


_lab(
    "pretraining",
    {
        "run_label_efficiency": {
            "backbone": _warm(tiny_bert),
            "tokenizer": st.builds(bpe_tok),
            "splits": _s(_sentiment_splits),
            "sizes": st.sampled_from([(4,), (6,)]),
            "seeds": st.just((0,)),
            "methods": st.sampled_from(
                [("bag-of-words",), ("full fine-tuning", "linear probe"), ("LoRA", "from scratch")]
            ),
            "pool": st.sampled_from(["mean", "last"]),
        }
    },
)


def _toy_split():
    """notebook 10's hand example (tests/test_10_recommendation.py): two users, items 1 … 9."""
    import pandas as pd

    from course_lib.recsys import leave_one_out

    ratings = pd.DataFrame(
        {"user": [0, 0, 0, 0, 1, 1, 1], "item": [9, 5, 1, 3, 6, 2, 4], "timestamp": [30, 10, 40, 20, 7, 5, 7]}
    )
    return leave_one_out(ratings, n_items=10)


def _tiny_sasrec(n_items=10):
    import torch

    from course_lib.models.sasrec import SASRec, SASRecConfig

    torch.manual_seed(0)
    return SASRec(SASRecConfig(vocab_size=n_items, block_size=4, n_layer=1, n_head=1, n_embd=8)).eval()


def _rec_parts():
    import torch

    from course_lib.recsys import ItemKNN

    split = _toy_split()
    return {
        "split": split,
        "knn": ItemKNN(split),
        "item_vectors": torch.randn(split.n_items, 4, generator=torch.Generator().manual_seed(0)),
        "titles": {i: f"Movie {i} (1999)" for i in range(split.n_items)},
    }


def _per_user():
    from course_lib.recsys import evaluate, popularity_scores

    split = _toy_split()
    return {"popular": evaluate(popularity_scores(split), split)}


_lab(
    "recommendation",
    {
        "make_recommenders": {
            "split": st.builds(_toy_split),
            "knn": st.builds(lambda: _rec_parts()["knn"]),
            "item_vectors": st.builds(lambda: _rec_parts()["item_vectors"]),
            "sasrec": st.none() | st.builds(_tiny_sasrec),
            "titles": st.builds(lambda: _rec_parts()["titles"]),
            "content_decay": st.floats(0.5, 1.0),
        },
        "results_table": {"per_user": _s(_per_user), "users": st.none() | st.just([0]) | st.just([0, 1])},
        "sampled_hr": {
            "scores_fn": st.builds(lambda: __import__("course_lib.recsys").recsys.popularity_scores(_toy_split())),
            "split": st.builds(_toy_split),
            "n_negatives": st.integers(1, 5),
            "k": st.integers(1, 5),
            "seed": st.integers(0, 100),
        },
        "normalise_title": {"title": st.sampled_from(["Matrix, The (1999)", "Toy Story (1995)", "Up", ""])},
    },
)


def _translation_data():
    return {"train": _pairs(), "val": _pairs()[:2]}


def _tiny_translator(kind="gru_attention"):
    import torch

    from course_lib.labs.translation import build_model, make_tokenizers

    recipe = _recipe(kind)
    toks = make_tokenizers(recipe, _pairs())
    torch.manual_seed(0)
    return build_model(recipe, toks), toks, recipe


_lab(
    "translation",
    {
        "train_translator": {
            "recipe": _warm(lambda: __import__("dataclasses").replace(_recipe(), batch_size=2, eval_every=1)),
            "data": _s(_translation_data),
            "steps": st.integers(1, 2),
            "val_bleu": st.booleans(),
        },
        "save_translator": {
            "path": st.sampled_from(["translator.pt", "sub/translator.pt"]),
            "model": st.builds(lambda: _tiny_translator()[0]),
            "tokenizers": st.builds(lambda: _tiny_translator()[1]),
            "recipe": st.builds(_recipe),
            "history": _s(lambda: __import__("pandas").DataFrame({"step": [0, 1], "val_loss": [2.0, float("nan")]})),
            "info": st.just({"kind": "gru_attention"}),
        },
    },
)

_lab(
    "context",
    {
        "pooled_word_recall": {
            "lengths": st.sampled_from([[1, 3], [2]]),
            "n_sentences": st.integers(1, 20),
            "vocab": st.integers(3, 13),
        }
    },
)
_lab(
    "gan",
    {
        "gan_training_panel": {
            "cache": st.just(None),
            "steps": _warm(lambda: 2),
            "snapshot_every": st.integers(1, 2),
            "seeds": st.just(3),
            "seed": st.integers(0, 2),
            "lr_d": st.sampled_from([1e-3, 5e-3]),
        }
    },
)
_lab(
    "scale",
    {
        "quantisation_table": {
            "model": _s(lambda: __import__("pool").tiny_gpt(block_size=8).eval()),
            "val_ids": _s(lambda: __import__("pool").ids_tensor(32)),
            "prompt": _s(lambda: __import__("pool").ids_tensor(3).reshape(1, -1)),
            "new_tokens": st.integers(1, 4),
            "eval_tokens": st.none() | st.integers(8, 16),
        }
    },
)
OVERRIDES_EXTRA["course_lib.perf.matmul_peak_flops"] = {
    "threads": st.none() | st.just(1),
    "n": st.integers(16, 64),
    "repeats": st.integers(1, 2),
}
