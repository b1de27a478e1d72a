# ruff: noqa: E501  (a table of reasons: one entry per line, kept whole)
"""Which public items the fuzzing suite does not fuzz (yet), and why; the coverage test reads these tables.

Regenerate the lists after a change with the sweep described in docs/drafts/reliability_fuzz.md; every
entry must keep a reason. The goal is that KNOWN_FINDINGS, NOT_YET and PANELS_NOT_YET become empty.

* EXEMPT: nothing to fuzz (a real reason each).
* KNOWN_FINDINGS: fuzzed, and a raw internal exception was found that is not fixed yet; the item is
  left out of the CI run so CI stays green, and the finding is the reason shown.
* NOT_YET: NOT YET FUZZED: pool.py cannot build a valid call for it yet.
* VALIDATION_ONLY: fuzzed, but its baseline call from pool.py is refused (a documented error), so only
  its argument checking is exercised; test_valid_call_returns skips these.
* PANELS_NOT_YET: panel factories that test_fuzz_panels.py does not drive yet.
"""

#: 8 items with nothing to fuzz.
EXEMPT: dict[str, str] = {
    "course_lib.errors.CourseError": "an exception class: raised by the course, never called with a learner's values",
    "course_lib.errors.ArgumentError": "an exception class: raised by the course, never called with a learner's values",
    "course_lib.errors.ArgumentTypeError": "an exception class: raised by the course, never called with a learner's values",
    "course_lib.errors.InputError": "an exception class: raised by the course, never called with a learner's values",
    "course_lib.errors.DataFileError": "an exception class: raised by the course, never called with a learner's values",
    "course_lib.errors.CheckpointError": "an exception class: raised by the course, never called with a learner's values",
    "course_lib.widgets.HTML": "a str subclass with no code of its own (a marker type that Panel shows as HTML)",
    "course_lib.article_program.run_program": "runs the article's printed §5.2 program, which by design raises whatever it raises (notebook 05 shows its NameError): its errors cannot be told from bugs",
}

#: 1 items: fuzzing found a raw exception that is not fixed yet (left out of the CI run).
KNOWN_FINDINGS: dict[str, str] = {}

#: 9 items NOT YET FUZZED: no valid call is written in pool.py yet.
NOT_YET: dict[str, str] = {
    "course_lib.labs.pretraining.run_label_efficiency": "no valid call in pool.py yet (needs backbone, splits)",
    "course_lib.labs.recommendation.make_recommenders": "no valid call in pool.py yet (needs split, knn, item_vectors, sasrec, titles)",
    "course_lib.labs.recommendation.results_table": "no valid call in pool.py yet (needs per_user)",
    "course_lib.labs.recommendation.sampled_hr": "no valid call in pool.py yet (needs scores_fn, split)",
    "course_lib.labs.translation.save_translator": "no valid call in pool.py yet (needs path, tokenizers, recipe, info)",
    "course_lib.labs.translation.train_translator": "no valid call in pool.py yet (needs recipe, data)",
    "course_lib.labs.scale.ddp_equivalence": "a valid call starts torchrun with 2 processes (about 10 s before the first step): no call fits the 5 s limit; its size, batch_size, seed and timeout are checked first",
}

#: 6 fuzzed items whose baseline call from pool.py is refused (only their argument checks are fuzzed).
VALIDATION_ONLY: dict[str, str] = {
    "course_lib.labs.context.pooled_word_recall": "every valid call drawn is refused: vocab must be an integer with 1 ≤ vocab ≤ 13, got 5000",
    "course_lib.labs.exercises.Hint": "every valid call drawn is refused: ",
    "course_lib.labs.gan.gan_training_panel": "every valid call drawn is refused: seed must be an integer with 0 ≤ seed ≤ 9, got 53876",
    "course_lib.labs.recommendation.normalise_title": "every valid call drawn is refused: title must be a string, got NoneType",
    "course_lib.labs.scale.quantisation_table": "every valid call drawn is refused: idx must be a LongTensor of token ids with shape (B, T) — a batch of prompts; got str () (",
    "course_lib.perf.matmul_peak_flops": "every valid call drawn is refused: n must be an integer with 16 ≤ n ≤ 8192, got 1",
}

#: Panel factories not driven by test_fuzz_panels.py yet (each needs a trained model of its own kind).
PANELS_NOT_YET: dict[str, str] = {}
