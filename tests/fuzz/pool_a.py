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


@functools.cache
def warm_optim() -> bool:
    """Build one optimizer (PyTorch imports torch._dynamo on the first one: seconds, once per process),
    so that a training item's first fuzzed call is not timed with that import."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    return True


def warmed(value_fn):
    """Like ``_s(value_fn)``, for an argument of a training item: the optimizer import is done first."""
    return st.builds(lambda: warm_optim() and value_fn())


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


# ---------------------------------------------------------------------------------------- recsys
def tiny_split():
    from course_lib.recsys import LeaveOneOut

    return LeaveOneOut(train=[[1, 2, 3], [2, 3], [1, 4]], val=[4, 1, 2], test=[5, 4, 3], n_items=6)


def tiny_movies():
    import pandas as pd

    return pd.DataFrame(
        {
            "item": [1, 2, 3, 4, 5],
            "title": ["Toy Story (1995)", "Heat (1995)", "Up (2009)", "Alien (1979)", "Big (1988)"],
            "genres": ["Animation|Comedy", "Action", "Animation", "Horror|Sci-Fi", "(no genres listed)"],
        }
    )


def tiny_tags():
    import pandas as pd

    return pd.DataFrame({"user": [0, 1], "item": [1, 4], "tag": ["pixar", "space horror"]})


def tiny_ratings():
    import pandas as pd

    rows = [(u, i, t) for u, items in enumerate([[1, 2, 3, 4], [2, 3, 1], [1, 4, 5]]) for t, i in enumerate(items)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"])


def tiny_sasrec():
    from course_lib.models.sasrec import SASRec, SASRecConfig

    torch.manual_seed(0)
    return SASRec(SASRecConfig(vocab_size=6, block_size=4, n_layer=1, n_head=1, n_embd=8))


def _per_user():
    from course_lib.recsys import evaluate, popularity_scores

    split = tiny_split()
    return {"popular": evaluate(popularity_scores(split), split)}


def _content():
    from course_lib.recsys import content_matrix

    return content_matrix(tiny_movies(), tiny_tags())[0]


def _pop():
    from course_lib.recsys import popularity_scores

    return popularity_scores(tiny_split())


def _knn():
    from course_lib.recsys import ItemKNN

    return ItemKNN(tiny_split())


_SPLIT = _s(tiny_split)
_SEQS = st.just([[1, 2, 3], [2, 3], [1, 4]])
_add(
    "recsys",
    {
        "ItemKNN": {"split": _SPLIT, "decay": st.floats(0.5, 1.0)},
        "LeaveOneOut": {
            "train": st.just([[1, 2], [3]]),
            "val": st.just([3, 1]),
            "test": st.just([4, 2]),
            "n_items": st.integers(5, 8),
        },
        "blend": {"first": _s(_pop), "second": _s(_knn), "weight": st.floats(0.0, 2.0)},
        "bpr_loss": {
            "pos": _s(lambda: torch.tensor([1.0, 0.5, -0.2])),
            "neg": _s(lambda: torch.tensor([0.0, 0.7, -1.0])),
        },
        "content_matrix": {"movies": _s(tiny_movies), "tags": _s(tiny_tags), "exclude": st.just({(1, 4)})},
        "content_scores": {"C": _s(_content), "decay": st.floats(0.5, 1.0)},
        "evaluate": {
            "score_fn": _s(_pop),
            "split": _SPLIT,
            "stage": st.sampled_from(["val", "test"]),
            "batch": st.integers(1, 4),
        },
        "hit_ndcg": {"ranks": st.just([0, 2, 9, 10]), "k": st.integers(1, 10)},
        "interaction_matrix": {"seqs": _SEQS, "n_items": st.integers(6, 8)},
        "item2vec_pairs": {"seqs": _SEQS},
        "leave_one_out": {"ratings": _s(tiny_ratings), "n_items": st.just(6), "min_items": st.just(3)},
        "left_pad": {"histories": _SEQS, "block_size": st.integers(1, 4)},
        "metric_summary": {"per_user": _s(_per_user), "users": st.sampled_from([None, [0, 1]])},
        "popularity_scores": {"split": _SPLIT},
        "rank_targets": {
            "scores": _s(lambda: torch.tensor([[0.0, 0.5, 0.2, 0.9, 0.1, 0.3], [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]])),
            "targets": st.just([3, 5]),
            "seen": st.just([[1], [2, 3]]),
        },
        "sasrec_windows": {"seqs": _SEQS, "block_size": st.integers(1, 4)},
        "save_sasrec": {
            "path": st.just("fuzz_sasrec.pt"),
            "model": _s(tiny_sasrec),
            "info": st.just({"note": "fuzz"}),
        },
        "train_item2vec": {"split": warmed(tiny_split), "batch_size": st.integers(2, 8)},
        "train_mf_bpr": {"split": warmed(tiny_split)},
        "train_sasrec": {
            "split": warmed(tiny_split),
            "config": _s(lambda: tiny_sasrec().config),
            "max_steps": st.just(1),
            "negatives": st.sampled_from([None, 2]),
        },
    },
)


# ------------------------------------------------------------ the course's texts, quiz, results, map
def _question(qid):
    from course_lib.quiz import question

    return question(qid)


_add(
    "article",
    {
        "Erratum": {
            "section": st.just("1"),
            "quote": st.just("使得大语言模型"),
            "problem": st.just("a problem"),
            "correction": st.just("a correction"),
            "notebook": st.just("00_start_here"),
            "heading": st.just("The errata"),
        },
        "quote": {"section": st.sampled_from(["1", "2.1", "3.2.1"]), "index": st.sampled_from([None, 0])},
        "show_quote": {
            "section": st.sampled_from(["1", "2.1", "5.2"]),
            "index": st.sampled_from([None, 0]),
            "note": st.sampled_from(["", "see notebook 05"]),
        },
    },
)
_add(
    "quiz",
    {
        "Question": {
            "id": st.just("9.9z"),
            "section": st.just("9.1"),
            "prompt": st.just("What is 2 + 2?"),
            "notebook": st.just("05"),
            "where": st.just("arithmetic"),
            "explanation": st.just("It is {answer}."),
            "answer": st.just(lambda: 4.0),
        },
        "Verdict": {"correct": st.booleans(), "message": st.just("Right."), "notebook": st.just("05")},
        "correct_answer": {"q": st.sampled_from(["9.1a", "9.4b"]).map(_question)},
        "grade": {"q": st.just("9.1a").map(_question), "answer": st.integers(0, 3)},
        "prompt_text": {"q": st.sampled_from(["9.1a", "9.4b"]).map(_question)},
        "question": {"id": st.sampled_from(["9.1a", "9.4b"])},
        "questions": {"section": st.sampled_from(["9.1", "7.2"])},
    },
)
_add(
    "references",
    {
        "Book": {
            "authors": st.just("A. Author"),
            "title": st.just("A Book"),
            "published": st.just("Press, 2020"),
            "kind": st.sampled_from(["book", "course"]),
            "why": st.just("to learn"),
        },
        "Paper": {
            "authors": st.just("Vaswani et al."),
            "year": st.integers(1950, 2025),
            "title": st.just("Attention Is All You Need"),
            "venue": st.just("NeurIPS"),
            "notebooks": st.just(("04",)),
            "role": st.just("the Transformer"),
        },
        "Tool": {"package": st.just("torch"), "notebooks": st.just(("all",)), "why": st.just("tensors")},
    },
)
_ENTRY = {"value": 0.25, "fmt": ".2f", "date": "2026-01-01"}
_TABLE_ENTRY = {"columns": ["model", "loss"], "rows": [["gpt", 1.5], ["lstm", None]], "formats": {"loss": ".2f"}}
_add(
    "results",
    {
        "format_entry": {"entry": st.just(_ENTRY), "fmt": st.sampled_from([None, ".3f", ""])},
        "record": {
            "key": st.just("99.fuzz_value"),
            "value": st.sampled_from([0.5, 3, "text", True, None]),
            "fmt": st.just(""),
        },
        "record_table": {
            "key": st.just("99.fuzz_table"),
            "table": _s(lambda: __import__("pandas").DataFrame({"model": ["gpt"], "loss": [1.5]})),
            "formats": st.sampled_from([None, {"loss": ".2f"}]),
        },
        "results_file": {"key": st.sampled_from(["04.kv_cache_speedup", "99.fuzz_value"])},
        "table_markdown": {"entry": st.just(_TABLE_ENTRY)},
    },
)
_add(
    "source",
    {
        "Source": {"code": st.just("x = 1"), "where": st.just("here")},
        "show_source": {
            "obj": st.sampled_from(["course_lib.checks.check_int", "course_lib.translation.Pair"]).map(
                lambda name: getattr(__import__(name.rsplit(".", 1)[0], fromlist=["x"]), name.rsplit(".", 1)[1])
            ),
            "core": st.booleans(),
        },
    },
)
_add(
    "course",
    {
        "Notebook": {"stem": st.just("99_fuzz"), "sections": st.just("§0"), "builds": st.just("nothing")},
        "Session": {
            "notebook": st.just("05"),
            "mode": st.sampled_from(["fast", "full"]),
            "teach_min": st.integers(5, 60),
            "focus": st.just("sampling"),
        },
    },
)
_add("config", {"choose": {"full": st.integers(100, 2000), "fast": st.integers(1, 100)}})


def _panel_controls():
    import ipywidgets as w

    return {"n": w.IntSlider(value=2, min=1, max=5)}


_add(
    "widgets",
    {
        "Panel": {
            "controls": _s(_panel_controls),
            "render": st.just(lambda n: f"n = {n}"),
            "title": st.sampled_from([None, "A panel"]),
        }
    },
)


# ------------------------------------------------------------------------- lora, models, babi, movielens
def _linear():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 3)


_add(
    "lora",
    {
        "LoRALinear": {"base": _s(_linear), "r": st.integers(1, 3), "alpha": st.floats(0.5, 16.0)},
        "apply_lora": {
            "targets": st.sampled_from([("q_proj", "v_proj"), ["lm_head"]]),
            "r": st.integers(1, 2),
            "trainable": st.sampled_from([(), ("lm_head",)]),
        },
    },
)


def _classifier_config():
    from course_lib.models.sentence_classifier import ClassifierConfig

    return ClassifierConfig(vocab_size=12, kind="mean", n_embd=4, n_hidden=4)


_add("models.memnet", {"position_encoding": {"sentence_len": st.integers(1, 8), "n_embd": st.integers(1, 8)}})
_add(
    "models.mf_bpr",
    {
        "MFConfig": {"n_users": st.integers(1, 5), "n_items": st.integers(2, 8), "n_embd": st.integers(1, 8)},
        "MFBPR": {"config": _s(lambda: __import__("course_lib.models.mf_bpr").models.mf_bpr.MFConfig(3, 6, 4))},
    },
)
_add(
    "models.seq2seq",
    {
        "AdditiveAttention": {
            "query_dim": st.integers(1, 8),
            "memory_dim": st.integers(1, 8),
            "n_hidden": st.integers(1, 8),
        }
    },
)
_add(
    "models.skipgram",
    {
        "skipgram_loss": {
            "v_center": _s(lambda: torch.randn(3, 4, generator=torch.Generator().manual_seed(0))),
            "u_context": _s(lambda: torch.randn(3, 4, generator=torch.Generator().manual_seed(1))),
            "u_negative": _s(lambda: torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(2))),
        }
    },
)
_add(
    "models.sentence_classifier",
    {
        "EmbeddingClassifier": {
            "cfg": _s(_classifier_config),
            "embeddings": st.none() | _s(lambda: torch.randn(12, 4, generator=torch.Generator().manual_seed(0))),
        }
    },
)

BABI_STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel? \thallway\t4
"""


@functools.cache
def babi_questions():
    from course_lib.babi import parse_babi

    return tuple(parse_babi(BABI_STORY, name="fuzz"))


def babi_tok():
    from course_lib.babi import build_vocabulary

    return build_vocabulary(list(babi_questions()))


_QS = _s(lambda: list(babi_questions()))
_add(
    "babi",
    {
        "BabiQuestion": {
            "story": st.just(("Mary moved to the bathroom.",)),
            "question": st.just("Where is Mary?"),
            "answer": st.just("bathroom"),
            "supporting": st.just((0,)),
            "line": st.just(2),
        },
        "build_vocabulary": {"questions": _QS},
        "load_babi": {"task": st.sampled_from([1, 2]), "split": st.just("test")},
        "memorised_answers": {"train": _QS, "test": _QS},
        "move_the_answer": {"q": st.sampled_from([0, 1]).map(lambda i: babi_questions()[i])},
        "vectorize": {
            "questions": _QS,
            "tok": _s(babi_tok),
            "memory_size": st.integers(1, 6),
            "sentence_len": st.integers(6, 8),
        },
        "parse_babi": {"text": st.just(BABI_STORY), "name": st.just("fuzz")},
    },
)
_add("movielens", {"MovieLens": {"ratings": _s(tiny_ratings), "movies": _s(tiny_movies), "tags": _s(tiny_tags)}})
_add("movielens", {"title_words": {"title": st.sampled_from(["Toy Story (1995)", "Heat"])}})


# ---------------------------------------------------- distributed, scaling, quantize, probes, attribution
SIZE = {"n_layer": 1, "n_head": 2, "n_embd": 8}


def _vocab():
    from pool import char_tok

    return char_tok().vocab_size


def _train_ids():
    from pool import ids_tensor

    return ids_tensor(64)


def _dp_model():
    from course_lib.distributed import make_model

    return make_model(_vocab(), 4, dict(SIZE), 0)


_DP = {
    "train_ids": warmed(_train_ids),
    "vocab_size": _s(_vocab),
    "size": _s(lambda: dict(SIZE)),
    "batch_size": st.integers(1, 4),
    "block_size": st.integers(2, 4),
}
_add(
    "distributed",
    {
        "ddp_matches_single_process": {
            "ddp_state": _s(lambda: _dp_model().state_dict()),
            "reference": _s(_dp_model),
            "atol": st.floats(0.0, 1e-3),
        },
        "make_model": {
            "vocab_size": _s(_vocab),
            "block_size": st.integers(1, 8),
            "size": _s(lambda: dict(SIZE)),
            "seed": st.integers(0, 100),
        },
        "shard": {
            "batch": _s(lambda: (torch.zeros(4, 3, dtype=torch.long), torch.ones(4, 3, dtype=torch.long))),
            "rank": st.integers(0, 1),
            "world_size": st.just(2),
        },
        "single_process_step": dict(_DP),
        "train_data_parallel": {**_DP, "steps": st.integers(1, 2), "warmup_steps": st.integers(0, 1)},
    },
)


def _data():
    from pool import char_tok, ids_tensor

    return (char_tok(), ids_tensor(64), ids_tensor(32))


def _gpt_set_path():
    from pool import tiny_gpt

    from course_lib.scaling import save_gpt_set

    save_gpt_set("fuzz_gpt_set.pt", {"tiny": tiny_gpt()}, extra={"note": "fuzz"})
    return "fuzz_gpt_set.pt"


_XY = {
    "x": st.just([1e3, 1e4, 1e5, 1e6, 1e7]),
    "y": st.just([3.0, 2.4, 2.0, 1.8, 1.7]),
    "grid": st.integers(2, 20),
    "confidence": st.floats(0.5, 0.99),
}
_add(
    "scaling",
    {
        "PowerLawFit": {
            "a": st.floats(0.5, 5.0),
            "alpha": st.floats(0.05, 1.0),
            "alpha_low": st.just(0.05),
            "alpha_high": st.just(1.0),
        },
        "load_gpt_set": {"path": _s(_gpt_set_path), "verify": st.booleans()},
        "save_gpt_set": {
            "path": st.just("fuzz_gpt_set.pt"),
            "models": _s(lambda: {"tiny": __import__("pool").tiny_gpt()}),
            "extra": st.sampled_from([None, {"note": "fuzz"}]),
            "half": st.booleans(),
        },
        "size_name": {"size": _s(lambda: dict(SIZE))},
        "train_gpt_tokens": {
            "size": warmed(lambda: dict(SIZE)),
            "tokens": st.integers(8, 16),
            "data": _s(_data),
            "recipe": st.just({"block_size": 4, "batch_size": 2, "warmup": 0}),
            "eval_every": st.sampled_from([None, 1]),
        },
        "training_flops": {"tokens": st.integers(0, 10**9)},
        "fit_power_law": {"x": _XY["x"], "y": _XY["y"], "confidence": _XY["confidence"]},
        "fit_power_law_with_floor": dict(_XY),
        "plausible_floors": dict(_XY),
    },
)
_add(
    "quantize",
    {"int8_symmetric": {"weight": _s(lambda: torch.randn(4, 3, generator=torch.Generator().manual_seed(0)))}},
)


def _probe_data(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(12, 3, generator=g), torch.arange(12) % 3


_add(
    "probes",
    {
        "control_labels": {
            "types": st.just(np.array([0, 1, 2, 0, 1, 2])),
            "labels": st.just(np.array([1, 0, -1, 1, 0, 1])),
        },
        "fit_linear_probe": {
            "X_train": _s(lambda: _probe_data(0)[0]),
            "y_train": _s(lambda: _probe_data(0)[1]),
            "X_test": _s(lambda: _probe_data(1)[0]),
            "y_test": _s(lambda: _probe_data(1)[1]),
            "max_iter": st.integers(1, 20),
        },
    },
)


def tiny_classifier():
    from course_lib.models.sentence_classifier import EmbeddingClassifier

    torch.manual_seed(0)
    return EmbeddingClassifier(_classifier_config()).eval()


_ATTR = {
    "model": _s(tiny_classifier),
    "ids": _s(lambda: torch.tensor([[2, 5, 7, 0], [3, 4, 0, 0]])),
    "mask": _s(lambda: torch.tensor([[True, True, True, False], [True, True, False, False]])),
    "n_steps": st.integers(1, 8),
}
_add("attribution", {"integrated_gradients": dict(_ATTR), "captum_token_attributions": dict(_ATTR)})


# --------------------------------------------------------------------------------------------- privacy
def _canary(secret="ab", insertions=2):
    from course_lib.privacy import Canary

    return Canary(prefix="the cat ", secret=secret, insertions=insertions)


def privacy_tok():
    """A character tokenizer that holds the secret alphabet a-z (the privacy functions need it)."""
    from course_lib.data import CharTokenizer

    return CharTokenizer.from_text("abcdefghijklmnopqrstuvwxyz .\nTHE")


def privacy_gpt():
    from pool import tiny_gpt

    return tiny_gpt(vocab_size=privacy_tok().vocab_size, block_size=16)


_WINDOW_RECIPE = {"model": {"n_layer": 1, "n_head": 2, "n_embd": 8}, "block_size": 4, "batch_size": 2, "warmup": 0}
_add(
    "privacy",
    {
        "Canary": {"prefix": st.just("the cat "), "secret": st.just("ab"), "insertions": st.integers(0, 3)},
        "canary_exposure": {
            "model": _s(privacy_gpt),
            "tokenizer": _s(privacy_tok),
            "canary": _s(_canary),
            "n_sample": st.integers(10, 40),
        },
        "canary_training_text": {
            "train_text": st.just("the cat sat.\nthe dog ate.\n"),
            "canaries": _s(lambda: [_canary(), _canary("cd", 1)]),
            "recipe": st.sampled_from([None, {"train_chars": 20}]),
        },
        "expected_exposure_unseen": {"space_size": st.integers(1, 10**6)},
        "exposure_from_rank": {"rank": st.integers(1, 5), "space_size": st.integers(5, 100)},
        "exposure_skewnormal": {
            "canary_log_ppl": st.floats(1.0, 5.0),
            "sample_log_ppl": _s(lambda: np.random.default_rng(0).normal(8.0, 1.0, 30)),
        },
        "insert_canaries": {"text": st.just("the cat sat.\nthe dog ate.\n"), "canaries": _s(lambda: [_canary()])},
        "rank_of": {"scores": _s(lambda: torch.tensor([-1.0, -2.0, -0.5, -3.0])), "index": st.integers(0, 3)},
        "secret_index": {"secret": st.sampled_from(["aaaa", "abcd", "z"])},
        "secret_log_likelihoods": {
            "model": _s(privacy_gpt),
            "tokenizer": _s(privacy_tok),
            "prefix": st.just("the cat "),
            "length": st.integers(1, 3),
            "alphabet": st.sampled_from(["ab", "xyz"]),
            "max_batch": st.integers(1, 16),
        },
        "train_window_lm": {
            "train_ids": warmed(_train_ids),
            "vocab_size": _s(_vocab),
            "recipe": st.just(_WINDOW_RECIPE),
            "steps": st.integers(1, 2),
        },
    },
)


# ------------------------------------------------------------------------------------- article_program
def _symbols():
    from course_lib.article_program import LSTM, Dense, Embedding, Input

    inputs = Input(shape=(None,))
    return inputs, Dense(5, activation="softmax")(LSTM(4, return_sequences=True)(Embedding(5, 3)(inputs)))


def _probs(seed=0):
    return torch.softmax(torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(seed)), -1)


_LOGITS = {
    "logits": _s(lambda: torch.randn(3, 5, generator=torch.Generator().manual_seed(0))),
    "targets": _s(lambda: torch.tensor([0, 4, 2])),
}
_WINDOW = {"current_sequence": _s(lambda: np.array([[1] * 10])), "predicted_word": st.integers(0, 50)}
_add(
    "article_program",
    {
        "Dense": {"units": st.integers(1, 8), "activation": st.sampled_from([None, "softmax"])},
        "Embedding": {"input_dim": st.integers(1, 20), "output_dim": st.integers(1, 8)},
        "LSTM": {"units": st.integers(1, 8), "return_sequences": st.booleans()},
        "Model": {"inputs": _s(lambda: _symbols()[0]), "outputs": _s(lambda: _symbols()[1])},
        "article_window_update": dict(_WINDOW),
        "fixed_window_update": dict(_WINDOW),
        "build_article_model": {
            "vocab_size": st.integers(2, 20),
            "embedding_dim": st.integers(1, 8),
            "hidden_size": st.integers(1, 8),
        },
        "build_lm_dataset": {
            "ids": st.sampled_from([list(range(12)), "tensor"]).map(lambda v: torch.arange(12) if v == "tensor" else v),
            "seq_len": st.integers(1, 5),
            "stride": st.sampled_from([None, 1, 3]),
        },
        "categorical_crossentropy": {
            "y_true": _s(lambda: torch.nn.functional.one_hot(torch.tensor([[0, 1, 2], [3, 4, 0]]), 5).float()),
            "y_pred": _s(_probs),
        },
        "sparse_categorical_crossentropy": {
            "y_true": _s(lambda: torch.tensor([[0, 1, 2], [3, 4, 0]])),
            "y_pred": _s(_probs),
        },
        "count_token_reads": {
            "prompt": _s(lambda: __import__("pool").ids_tensor(4).reshape(1, -1)),
            "n_new": st.integers(1, 4),
            "loop": st.sampled_from(["state carried", "fixed window (article)", "growing prefix"]),
            "window": st.integers(1, 6),
        },
        "logits_cross_entropy": dict(_LOGITS),
        "softmax_then_log_loss": dict(_LOGITS),
        "patch": {
            "source": st.just("def f(x):\n    return x + 1\n"),
            "old": st.just("x + 1"),
            "new": st.just("x + 2"),
        },
        "undefined_names": {"source": st.sampled_from(["y = np.zeros(3)\n", "def f(a):\n    return a + b\n"])},
        "article_function": {"numpy": st.booleans()},
        "loop_period": {
            "ids": st.just([5, 1, 2, 1, 2, 1, 2]),
            "min_repeats": st.integers(1, 3),
            "max_period": st.integers(1, 10),
        },
    },
)


# ----------------------------------------------------------------------------------------- pretraining
SENTENCES = ["the cat sat on the mat.", "the dog ate the food, and it was good!", "a good film", "a bad film"]


@functools.cache
def bpe_tok():
    from course_lib.pretraining import train_tokenizer

    return train_tokenizer(SENTENCES, 262)


def backbone(kind="gpt"):
    from course_lib.pretraining import build_backbone

    torch.manual_seed(0)
    tok = bpe_tok()
    return build_backbone(kind, tok.vocab_size, tok.special_id("[PAD]"), block_size=16, n_layer=1, n_head=2, n_embd=8)


def text_classifier(kind="gpt"):
    from course_lib.pretraining import TextClassifier

    return TextClassifier(backbone(kind))


def _corpus():
    import pandas as pd

    return pd.DataFrame({"text": SENTENCES * 2, "source": ["tatoeba", "tatoeba", "reviews", "reviews"] * 2})


def _labelled():
    import pandas as pd

    return pd.DataFrame({"text": SENTENCES * 2, "label": [1, 0, 1, 0] * 2})


def _batch():
    from course_lib.pretraining import encode_batch

    return encode_batch(bpe_tok(), SENTENCES, max_len=12)


def _stream():
    from course_lib.pretraining import token_stream

    return token_stream(bpe_tok(), SENTENCES)


def _pretrained_path():
    import pandas as pd

    from course_lib.pretraining import save_pretrained

    history = pd.DataFrame({"step": [1], "loss": [5.0]})
    save_pretrained("fuzz_pretrained.pt", backbone(), bpe_tok(), history, {"kind": "gpt"})
    return "fuzz_pretrained.pt"


_KIND = st.sampled_from(["gpt", "bert"])
_BATCH = {
    "ids": _s(lambda: _batch()[0]),
    "mask": _s(lambda: _batch()[1]),
    "batch_size": st.integers(1, 4),
}
_TINY_RECIPE = {"model": {"n_layer": 1, "n_head": 2, "n_embd": 8}, "block_size": 4, "batch_size": 2, "warmup": 0}
_add(
    "pretraining",
    {
        "TextClassifier": {"backbone": _KIND.map(backbone), "pool": st.sampled_from(["mean", "last"])},
        "build_backbone": {
            "kind": _KIND,
            "vocab_size": st.integers(4, 40),
            "pad_id": st.integers(0, 3),
            "block_size": st.integers(1, 16),
        },
        "corpus_statistics": {
            "corpus": _s(_corpus),
            "splits": _s(lambda: {"train": _labelled(), "val": _labelled(), "test": _labelled()}),
            "tokenizer": _s(bpe_tok),
        },
        "evaluate_pretraining": {
            "model": _KIND.map(backbone),
            "kind": st.just("gpt"),
            "tokenizer": _s(bpe_tok),
            "stream": _s(_stream),
            "block_size": st.integers(1, 8),
            "max_blocks": st.integers(1, 4),
        },
        "finetune": {
            "model": warmed(text_classifier),
            **{k: v for k, v in _BATCH.items() if k != "batch_size"},
            "labels": _s(lambda: torch.tensor([1, 0, 1, 0])),
            "steps": st.integers(1, 2),
            "lr": st.floats(1e-4, 1e-2),
            "batch_size": st.integers(1, 4),
            "warmup": st.integers(0, 2),
        },
        "fit_probe": {
            "train_x": _s(lambda: torch.randn(8, 3, generator=torch.Generator().manual_seed(0))),
            "train_y": _s(lambda: torch.tensor([0, 1] * 4)),
            "test_x": _s(lambda: torch.randn(4, 3, generator=torch.Generator().manual_seed(1))),
            "l2": st.floats(1e-3, 1.0),
        },
        "hidden_states": {"backbone": _KIND.map(backbone), "idx": _s(lambda: _batch()[0])},
        "label_subset": {"train": _s(_labelled), "n": st.integers(2, 10), "seed": st.integers(0, 100)},
        "lm_batches": {"stream": _s(_stream), "block_size": st.integers(1, 8)},
        "load_pretrained": {"kind_or_path": _s(_pretrained_path), "verify": st.booleans()},
        "mask_tokens": {
            "ids": _s(lambda: _batch()[0]),
            "mask_id": _s(lambda: bpe_tok().special_id("[MASK]")),
            "vocab_size": _s(lambda: bpe_tok().vocab_size),
            "special_ids": _s(lambda: [bpe_tok().special_id(s) for s in bpe_tok().specials]),
        },
        "predict_logits": {"model": _KIND.map(text_classifier), **_BATCH},
        "pretrain": {
            "kind": _KIND,
            "tokenizer": warmed(bpe_tok),
            "train_stream": _s(_stream),
            "val_stream": _s(_stream),
            "recipe": st.just(_TINY_RECIPE),
            "steps": st.integers(1, 2),
        },
        "pretrain_loss": {"kind": _KIND, "tokenizer": _s(bpe_tok), "mask_p": st.floats(0.05, 0.5)},
        "save_pretrained": {
            "path": st.just("fuzz_pretrained.pt"),
            "model": _KIND.map(backbone),
            "tokenizer": _s(bpe_tok),
            "info": _KIND.map(lambda k: {"kind": k}),
        },
        "sentence_features": {"model": _KIND.map(text_classifier), **_BATCH},
        "split_corpus": {"corpus": _s(_corpus), "val_frac": st.floats(0.1, 0.5)},
        "training_stream": {"tokenizer": _s(bpe_tok), "train": _s(_corpus), "review_weight": st.integers(1, 3)},
        "encode_batch": {"tokenizer": _s(bpe_tok), "texts": st.just(list(SENTENCES)), "max_len": st.integers(2, 12)},
        "token_stream": {"tokenizer": _s(bpe_tok), "texts": st.just(list(SENTENCES))},
    },
)


# ----------------------------------------------- items whose pool.py baseline was refused (VALIDATION_ONLY)
_add(
    "pretraining",
    {
        "accuracy": {
            "logits": _s(lambda: torch.tensor([1.5, -0.5, 0.2])),
            "labels": _s(lambda: torch.tensor([1, 0, 0])),
        },
        "mlm_cross_entropy": {
            "logits": _s(lambda: torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0))),
            "labels": _s(lambda: torch.tensor([[1, -100, 4], [-100, -100, 0]])),
        },
        "train_tokenizer": {"texts": st.just(list(SENTENCES)), "vocab_size": st.integers(259, 264)},
    },
)
_add(
    "privacy",
    {
        "make_canaries": {"counts": st.sampled_from([(0, 1, 10), (2,)]), "per_count": st.integers(1, 3)},
        "text_windows": {"ids": _s(_train_ids), "block_size": st.integers(1, 8)},
    },
)
_add(
    "quantize",
    {
        "generation_speed": {
            "prompt": _s(lambda: __import__("pool").ids_tensor(4).reshape(1, -1)),
            "new_tokens": st.integers(1, 4),
            "use_cache": st.booleans(),
            "repeats": st.integers(1, 2),
        }
    },
)
_add("quiz", {"parse_number": {"text": st.sampled_from(["12.5", "66,048", "2.4e6", 3, -1.5])}})
# one process trains in the calling process (no torchrun start): 1 step of the L4·d128 GPT, well under a second
_add(
    "labs.scale",
    {
        "ddp_throughput": {
            "processes": st.just(1),
            "threads": st.just(1),
            "steps": st.integers(1, 2),
            "batch_size": st.integers(1, 4),
            "warmup_steps": st.integers(0, 1),
            "timeout": st.just(60.0),
            "check_equivalence": st.just(False),
        }
    },
)


@functools.cache
def qa_tok():
    from course_lib.labs.qa import qa_vocabulary

    return qa_vocabulary()  # bAbI's words (about 1.5 s once)


# task 1 is read and vectorised in about half a second (babi.vectorize fills NumPy arrays)
_add("labs.qa", {"qa_data": {"task": st.just(1), "tok": _s(qa_tok)}})

# registry.VALID_CALL_ELSEWHERE: every draw spoils size or batch_size, which are refused before torchrun starts
# (a spoiled seed of 0, or a timeout of 1.5 s, would be valid and start it: those are fuzzed in other items)
_add(
    "labs.scale",
    {"ddp_equivalence": {"size": _s(lambda: {"n_layer": 1, "n_head": 1, "n_embd": 8}), "batch_size": st.just(2)}},
)
ONLY_MUTATE_EXTRA["course_lib.labs.scale.ddp_equivalence"] = ["size", "batch_size"]

# distinct_n needs at least n words: the pool's short texts ("the cat") have two
_add("article_program", {"distinct_n": {"text": st.just(__import__("pool").TEXT), "n": st.integers(1, 5)}})
