"""The fuzzing suite's machinery: the list of public items, valid baselines, bad values, the property.

Not part of course_lib (a test helper): it needs no ``Defined in:`` line.

* :func:`public_items` lists every public function and class of course_lib (names not starting with
  ``_``, defined in their module), the same walk as tests/test_book_library_sync.py.
* :data:`POOL` gives, by parameter name, a hypothesis strategy for a *valid* value (tiny sizes so a
  call takes milliseconds); :data:`OVERRIDES` replaces or adds entries for one item whose parameter
  of that name means something else.
* :data:`BAD` is the generic strategy for wrong values: wrong types, NaN/inf, negative and huge
  integers, wrong-shaped and float-id tensors, and strings (empty, whitespace, 100k characters,
  Chinese, emoji, HTML).
* :func:`check_call` is the property: the call returns (a number promised is finite) or raises one
  of the course's documented errors; anything else is a :class:`Finding`.
"""

from __future__ import annotations

import importlib
import inspect
import math
import numbers
import os
import pkgutil
import signal
import typing
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from hypothesis import settings
from hypothesis import strategies as st

import course_lib
from course_lib.errors import CourseError

SLOW_S = 5.0  # a single call that runs longer than this is a finding ("long inputs are fast or refused")


def public_items() -> dict[str, object]:
    """``{"module.name": object}`` for every public function and class of course_lib."""
    out = {}
    for m in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        mod = importlib.import_module(m.name)
        for name, obj in vars(mod).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) == mod.__name__:
                out[f"{mod.__name__}.{name}"] = obj
    return out


def fuzz_settings() -> settings:
    """The profile registered in tests/fuzz/conftest.py: HYPOTHESIS_PROFILE, else "ci" when CI is set, else "quick"."""
    default = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "quick"
    return settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


# --------------------------------------------------------------------------------------- bad values
LONG = "x" * 100_000
BAD_STRINGS = ["", "   \n\t ", LONG, "大语言模型", "🙂🚀👩‍👩‍👧", "<script>alert('x')</script><b>&amp;", "\x00\ud7ff"]
BAD_SCALARS = [None, float("nan"), float("inf"), -float("inf"), -1, 0, 2**64, -(2**64), 1.5, True, 1e308]
BAD_CONTAINERS = [[], [1, "a"], {}, {"a": None}, (None,), object()]


def _bad_tensors():
    return [
        torch.tensor(0.5),
        torch.zeros(0),
        torch.zeros(2, 3, 4, 5),
        torch.tensor([[0.5, 1.5]]),  # float token ids
        torch.tensor([[-1, 10**6]]),  # out-of-range ids
        torch.full((2, 3), float("nan")),
        torch.tensor([True, False]),
    ]


BAD = st.one_of(
    st.sampled_from(BAD_SCALARS + BAD_STRINGS + BAD_CONTAINERS),
    st.builds(lambda i: _bad_tensors()[i], st.integers(0, 6)),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
)


# ------------------------------------------------------------------------------------ the property
class Finding(AssertionError):
    """A call that broke the contract: a raw internal exception, a NaN promised as a number, a slow call."""


class Slow(BaseException):  # BaseException: a library's `except Exception` must not swallow it
    pass


@contextmanager
def time_limit(seconds: float):
    def alarm(signum, frame):
        raise Slow()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def documented(exc: BaseException, names) -> bool:
    """True when ``exc`` is one of the errors the course documents for a bad argument."""
    if isinstance(exc, CourseError):
        return True
    if isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, (UnicodeError,)):
        msg = str(exc)
        return any(n and n in msg for n in names)
    return False


def _promises_number(func) -> bool:
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - unresolvable annotations: no promise can be read
        return False
    return hints.get("return") in (float, int)


def check_call(label: str, func, kwargs: dict, names=None) -> object:
    """Call ``func(**kwargs)`` and raise :class:`Finding` unless the outcome is one the course documents."""
    names = list(names if names is not None else kwargs)
    try:
        with time_limit(SLOW_S):
            result = func(**kwargs)
    except Slow:
        raise Finding(f"{label}: took more than {SLOW_S:g} s with {_show(kwargs)}") from None
    except Exception as exc:  # noqa: BLE001 - the property classifies every exception
        if documented(exc, names):
            return exc
        raise Finding(f"{label}: raw {type(exc).__name__}: {str(exc)[:300]} with {_show(kwargs)}") from exc
    if _promises_number(func) and isinstance(result, numbers.Real) and not math.isfinite(result):
        raise Finding(f"{label}: promised a number, returned {result} with {_show(kwargs)}")
    return result


def _show(kwargs: dict) -> str:
    def short(v):
        r = repr(v) if not isinstance(v, torch.Tensor) else f"tensor{tuple(v.shape)}:{v.dtype}"
        return r if len(r) < 60 else r[:57] + "..."

    return "{" + ", ".join(f"{k}={short(v)}" for k, v in kwargs.items()) + "}"


def close_figures():
    import matplotlib.pyplot as plt

    plt.close("all")


__all__ = ["BAD", "Finding", "check_call", "public_items", "np", "pd"]
