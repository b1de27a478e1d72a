"""Property-based fuzzing of every public function and class of course_lib (issue 12).

For each item (see registry.py for the few that are not fuzzed), hypothesis draws a valid call from
pool.py and replaces at most one argument by a bad value (wrong type, NaN, negative or huge number,
wrong-shaped tensor, empty / whitespace / 100k-character / Unicode / HTML string). The call must return
(a promised number is finite) or raise a documented error (fuzzlib.check_call); a raw internal
exception, a NaN number or a call slower than fuzzlib.SLOW_S fails the test.
"""

import os
import warnings

import matplotlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("agg")

from driver import call_strategy  # noqa: E402
from fuzzlib import check_call, close_figures, fuzz_settings, public_items  # noqa: E402
from registry import EXEMPT, KNOWN_FINDINGS, NOT_YET, VALID_CALL_ELSEWHERE, VALIDATION_ONLY  # noqa: E402

os.environ.setdefault("COURSE_FAST", "1")
ITEMS = public_items()
FUZZED = sorted(k for k in ITEMS if k not in EXEMPT and k not in NOT_YET and k not in KNOWN_FINDINGS)


@pytest.mark.parametrize("key", FUZZED)
def test_fuzz(key):
    obj = ITEMS[key]

    @fuzz_settings()
    @given(st.data())
    def run(data):
        kwargs, mutated = data.draw(call_strategy(key, obj), label="call")
        names = [mutated] if mutated else list(kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                check_call(key, obj, kwargs, names=names)
            finally:
                close_figures()

    run()


@pytest.mark.parametrize("key", [k for k in FUZZED if k not in VALIDATION_ONLY and k not in VALID_CALL_ELSEWHERE])
def test_valid_call_returns(key):
    """The baseline is really valid: without a bad value the call returns (so the fuzz above tests more
    than argument checking). Items whose every call is refused are listed in registry.VALIDATION_ONLY;
    items whose valid call is too slow for the limit in registry.VALID_CALL_ELSEWHERE, with the test
    that makes it."""
    obj = ITEMS[key]

    @settings(fuzz_settings(), max_examples=3)
    @given(st.data())
    def run(data):
        kwargs, _ = data.draw(call_strategy(key, obj, mutate=False), label="call")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = check_call(key, obj, kwargs)
            finally:
                close_figures()
        built = isinstance(obj, type) and isinstance(result, obj)  # an exception class returns its instance
        assert built or not isinstance(result, BaseException), f"{key}: a valid call was refused: {result}"

    run()
