"""Fuzzing of every widget panel: each control gets bad values; the panel must answer with a friendly
(escaped) message or a result, never a traceback, stay fast (or say the limit), and keep working.

PANELS maps each panel factory of course_lib to a builder of a small panel; the coverage test
(test_fuzz_coverage.py) fails when a factory is neither here nor in registry.PANELS_NOT_YET.
"""

import html
import time

import ipywidgets as w
import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

matplotlib.use("agg")

import pool  # noqa: E402
import pool_c  # noqa: E402  (the labs' tiny models and tables)
from fuzzlib import BAD_STRINGS, close_figures, fuzz_settings  # noqa: E402

FAST_S = 3.0  # generous: CI machines are shared; a learner's call is ~10x faster


def _gpt_models():
    return {"GPT": pool.tiny_gpt(block_size=16).eval()}


def _ngram():
    from course_lib import ngram
    from course_lib.labs.ngram import ngram_sampler_panel

    tok = pool.char_tok()
    ids = tok.encode(pool.TEXT * 3)
    models = {n: ngram.KneserNeyLM(n, tok.vocab_size).fit(ids) for n in (2, 4)}
    return ngram_sampler_panel(models, tok)


def _embeddings(factory):
    def build():
        from course_lib.labs import embeddings as LE

        models = {"tiny": pool.word_vectors()}
        if factory == "scatter_panel":
            return LE.scatter_panel(models, {"animals": ["cat", "dog"], "royal": ["king", "queen"]})
        return getattr(LE, factory)(models)

    return build


def _sentence():
    from course_lib import sentiment as S
    from course_lib.labs.context import sentence_panel

    tok = S.build_tokenizer(["good food", "bad service"])
    return sentence_panel({"mean": (S.make_classifier("mean", tok, seed=0), tok)}, sentence="good food")


def _sampling():
    from course_lib.labs.generation import sampling_panel

    return sampling_panel(_gpt_models(), pool.char_tok(), prompt="the ", length=8)


def _viewer():
    from course_lib.labs.attention import attention_viewer_panel

    return attention_viewer_panel(pool.tiny_gpt(block_size=16).eval(), pool.char_tok(), {"one": "the cat sat"})


def _snapshots():
    import numpy as np

    from course_lib.labs.gan import snapshot_panel

    g = np.random.default_rng(0)
    return snapshot_panel({"run": {0: g.normal(size=(50, 2)), 10: g.normal(size=(50, 2))}})


def _speaker():
    from course_lib.labs.tour import speaker_panel

    return speaker_panel("ROMEO:\nHi there.\n\nJULIET:\nHello.\n\n" * 3)


def _quiz():
    from course_lib import quiz
    from course_lib.labs.review import quiz_panel

    return quiz_panel(quiz.QUESTIONS[0].id, {})


def _gan_training():
    from course_lib.labs.gan import gan_training_panel

    # every (lr_d, seed) choice is cached: no control value trains a GAN (that takes seconds)
    cache = {(lr_d, seed): pool_c._snapshots(seed) for lr_d in (1e-3, 5e-3) for seed in (0, 1)}
    return gan_training_panel(cache, steps=10, snapshot_every=10, seeds=2, lr_d=5e-3, seed=0)


def _attribution():
    from course_lib.labs.scale import attribution_panel

    model, tok = pool_c._classifier("mean")
    return attribution_panel(model, tok, ["good food", "the service was bad"])


def _beta():
    from course_lib.labs.vae import beta_panel

    return beta_panel({0.5: pool_c._summary(), 1.0: pool_c._summary(), 2.0: pool_c._summary()})


def _interpolation():
    from course_lib.labs.vae import interpolation_panel

    return interpolation_panel(pool_c._sentence_vae(), pool_c._sentence_tok(), a="tom is happy .", b="i am hungry .")


def _fill_mask():
    from course_lib.labs.pretraining import fill_mask_panel

    return fill_mask_panel(pool_c.tiny_bert(), pool_c.bpe_tok(), sentence="the food was [MASK] .")


def _story():
    from course_lib.labs.qa import story_panel

    return story_panel({"MemN2N": pool_c.tiny_reader("memnet3")}, pool_c.babi_tok(), pool_c.babi_tests())


def _translation():
    from course_lib.labs.translation import translation_panel

    # the shipped GRU + attention translator (2 MB, read from data/checkpoints): no tiny one translates a sentence
    return translation_panel({"GRU + attention": pool_c.shipped_translator()}, example="je suis fatigué .")


def _recommendation():
    from course_lib.labs.recommendation import recommendation_panel

    return recommendation_panel(pool_c.recommenders(), pool_c.title_index(), dict(pool_c._GENRES))


def _simple(module, factory):
    def build():
        import importlib

        return getattr(importlib.import_module(module), factory)()

    return build


PANELS = {
    "course_lib.labs.attention.saturation_panel": _simple("course_lib.labs.attention", "saturation_panel"),
    "course_lib.labs.attention.attention_viewer_panel": _viewer,
    "course_lib.labs.context.sentence_panel": _sentence,
    "course_lib.labs.embeddings.neighbours_panel": _embeddings("neighbours_panel"),
    "course_lib.labs.embeddings.scatter_panel": _embeddings("scatter_panel"),
    "course_lib.labs.embeddings.analogy_panel": _embeddings("analogy_panel"),
    "course_lib.labs.gan.discriminator_loss_panel": _simple("course_lib.labs.gan", "discriminator_loss_panel"),
    "course_lib.labs.gan.snapshot_panel": _snapshots,
    "course_lib.labs.generation.sampling_panel": _sampling,
    "course_lib.labs.ngram.ngram_sampler_panel": _ngram,
    "course_lib.labs.review.quiz_panel": _quiz,
    "course_lib.labs.tour.speaker_panel": _speaker,
    "course_lib.labs.gan.gan_training_panel": _gan_training,
    "course_lib.labs.scale.attribution_panel": _attribution,
    "course_lib.labs.pretraining.fill_mask_panel": _fill_mask,
    "course_lib.labs.qa.story_panel": _story,
    "course_lib.labs.recommendation.recommendation_panel": _recommendation,
    "course_lib.labs.translation.translation_panel": _translation,
    "course_lib.labs.vae.beta_panel": _beta,
    "course_lib.labs.vae.interpolation_panel": _interpolation,
}


def bad_values(control):
    """A strategy of values to try on ``control`` (the widget itself refuses some types: TraitError)."""
    if isinstance(control, (w.Text, w.Textarea, w.Combobox)):
        return st.one_of(st.sampled_from(BAD_STRINGS + ["zzzz", "KING", "the the the"]), st.text(max_size=30))
    if isinstance(control, (w.Dropdown, w.RadioButtons, w.ToggleButtons, w.Select, w.SelectMultiple)):
        opts = [o[1] if isinstance(o, tuple) else o for o in control.options]
        if isinstance(control, w.SelectMultiple):
            return st.lists(st.sampled_from(opts), unique=True, max_size=3).map(tuple) if opts else st.just(())
        return st.sampled_from(opts) if opts else st.nothing()
    if isinstance(control, (w.IntSlider, w.IntText, w.BoundedIntText)):
        lo = getattr(control, "min", -(2**63))
        hi = getattr(control, "max", 2**63 - 1)
        return st.one_of(st.sampled_from([lo, hi, -1, 0, 2**63 - 1, 2**64]), st.integers(lo, hi))
    if isinstance(control, (w.FloatSlider, w.FloatText, w.BoundedFloatText, w.FloatLogSlider)):
        return st.one_of(st.sampled_from([float("nan"), float("inf"), -1.0, 0.0, 1e308]), st.floats())
    if isinstance(control, (w.Checkbox, w.ToggleButton)):
        return st.booleans()
    return st.none()


def _set(control, value) -> bool:
    """Set a control the way a learner can; False when the widget itself refuses the value."""
    from traitlets import TraitError

    try:
        control.value = value
    except TraitError:
        return False
    return True


def assert_friendly(key, panel, name, value, seconds):
    if panel.error is not None:
        assert panel.error.strip(), f"{key}: empty error message for {name}={value!r}"
        assert "Traceback" not in panel.error, f"{key}: a traceback for {name}={value!r}"
        assert html.escape(panel.error) in panel._html.value, f"{key}: message not escaped for {name}={value!r}"
    text = panel._html.value
    assert "<script>" not in text, f"{key}: unescaped HTML shown for {name}={value!r}"
    if seconds > FAST_S:
        assert panel.error and "limit" in panel.error, (
            f"{key}: {name}={str(value)[:40]!r} took {seconds:.1f} s and was not refused with a limit"
        )


@pytest.mark.parametrize("key", sorted(PANELS))
def test_panel_fuzz(key):
    panel = PANELS[key]()
    assert panel.error is None, f"{key}: the default panel shows an error: {panel.error}"
    good = panel.values()
    controls = sorted(panel.controls)

    @fuzz_settings()
    @given(st.data())
    def run(data):
        name = data.draw(st.sampled_from(controls), label="control")
        value = data.draw(bad_values(panel.controls[name]), label="value")
        try:
            start = time.perf_counter()
            if _set(panel.controls[name], value):
                assert_friendly(key, panel, name, value, time.perf_counter() - start)
            # ... and the panel keeps working: the good value is shown again, without an error
            _set(panel.controls[name], good[name])
            assert panel.error is None, f"{key}: still an error after {name} was set back: {panel.error}"
        finally:
            close_figures()

    run()
