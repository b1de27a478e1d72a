# ruff: noqa: E501  (a table of reasons: one entry per line, kept whole)
"""Which public items the fuzzing suite does not fuzz (yet), and why; the coverage test reads these tables.

A new public item fails test_fuzz_coverage.py until it has a valid call (tests/fuzz/pool*.py) or an
entry here; every entry keeps a reason. KNOWN_FINDINGS, NOT_YET and PANELS_NOT_YET are empty and should
stay so: fix a finding in the library rather than listing it. tools/sync_readme.py writes the README's
figures from these tables.

* EXEMPT: nothing to fuzz (a real reason each).
* KNOWN_FINDINGS: fuzzed, and a raw internal exception was found that is not fixed yet; the item is
  left out of the CI run so CI stays green, and the finding is the reason shown.
* NOT_YET: NOT YET FUZZED: pool.py cannot build a valid call for it yet.
* VALIDATION_ONLY: fuzzed, but its baseline call from pool.py is refused (a documented error), so only
  its argument checking is exercised; test_valid_call_returns skips these.
* VALID_CALL_ELSEWHERE: fuzzed with every draw spoiling one argument (ONLY_MUTATE in the pool says which),
  because the valid call itself runs for longer than the fuzzing limit; the reason names the test that makes it.
* PANELS_NOT_YET: panel factories that test_fuzz_panels.py does not drive yet.
"""

#: Items with nothing to fuzz.
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

#: Items: fuzzing found a raw exception that is not fixed yet (left out of the CI run).
KNOWN_FINDINGS: dict[str, str] = {}

#: Items NOT YET FUZZED: no valid call is written in pool.py yet.
NOT_YET: dict[str, str] = {}

#: Items whose valid call is too slow for the fuzzing limit: only spoiled calls are drawn here.
VALID_CALL_ELSEWHERE: dict[str, str] = {
    "course_lib.labs.scale.ddp_equivalence": "a valid call starts torchrun with 2 processes (about 10 s); it is made by tests/test_12_scale_privacy_interpretability.py::test_one_ddp_step_on_two_processes_equals_one_step_on_the_union_batch",
}

#: Fuzzed items whose baseline call from pool.py is refused (only their argument checks are fuzzed).
VALIDATION_ONLY: dict[str, str] = {}

#: Panel factories not driven by test_fuzz_panels.py yet (each needs a trained model of its own kind).
PANELS_NOT_YET: dict[str, str] = {}
