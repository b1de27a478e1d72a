"""Checked exercises: ``check("05.1", your_answer)`` says "correct" or gives a specific hint, never the solution.

Defined in: notebooks/00_start_here.ipynb

Each notebook's lab module registers the checks of its exercises with :func:`exercise`::

    @exercise("05.1", "a function top_k_sample(logits, k) → ids", wrong=lambda: lambda logits, k: logits.argmax(-1))
    def _check_top_k(answer):
        ...                      # run ``answer`` on cases the learner does not see
        raise Hint("Keep the k largest logits and set the others to -inf before sampling.")

A check returns normally when the answer is right and raises :class:`Hint` with a specific message
when it is not. ``wrong`` builds a plausible wrong answer: ``tests/test_exercises.py`` runs every check
against it and expects a hint. The full notebooks run each check on their own solution during the tests,
where ``COURSE_EXERCISES_STRICT=1`` (set in ``conftest.py``) turns a wrong answer into a failure, so every
check is tested both ways. The ``clean/`` versions keep the ``check(...)`` calls and drop the solutions.
"""

from __future__ import annotations

import html
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..checks import check_text
from ..errors import ArgumentError, ArgumentTypeError

#: Which lab module registers the exercises of each notebook (by number).
LABS = {
    "00": "tour",
    "01": "ngram",
    "02": "embeddings",
    "03": "context",
    "04": "attention",
    "05": "generation",
    "06": "vae",
    "07": "gan",
    "08": "translation",
    "09": "qa",
    "10": "recommendation",
    "11": "pretraining",
    "12": "scale",
    "13": "review",
}


class Hint(Exception):
    """Raised by a check when the answer is not right yet; its message is the hint shown to the learner.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/tour.py
    """


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: its id (``"05.1"``), what the answer is, its check and a plausible wrong answer.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/exercises.py
    """

    id: str
    expects: str
    check: Callable[[Any], None]
    wrong: Callable[[], Any]


REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, expects: str, wrong: Callable[[], Any]):
    """Decorator: register ``check(answer)`` as the check of exercise ``id`` (``"NN.k"``).

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/tour.py
    """
    check_text(id, "id")
    check_text(expects, "expects")
    if not callable(wrong):
        raise ArgumentTypeError(f"wrong must be a function returning a wrong answer, got {type(wrong).__name__}")
    if id[:2] not in LABS or not id[2:3] == ".":
        raise ArgumentError(f"exercise ids look like 'NN.k' with NN a notebook number, got {id!r}")

    def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        if id in REGISTRY and REGISTRY[id].check.__qualname__ != fn.__qualname__:
            raise ArgumentError(f"exercise {id} is registered twice")
        REGISTRY[id] = Exercise(id, expects, fn, wrong)
        return fn

    return register


def load(id: str) -> Exercise:
    """The exercise ``id``, importing the lab module that registers it.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/exercises.py
    """
    check_text(id, "id")
    number = id[:2]
    if number not in LABS:
        raise ArgumentError(f"no notebook {number!r}: exercise ids look like '05.1'")
    importlib.import_module(f"course_lib.labs.{LABS[number]}")
    if id not in REGISTRY:
        known = sorted(k for k in REGISTRY if k.startswith(number + "."))
        raise ArgumentError(f"no exercise {id!r}; notebook {number} has {', '.join(known) or 'none'}")
    return REGISTRY[id]


@dataclass(frozen=True)
class Result:
    """What :func:`check` says: ``correct`` and a message; shown in a notebook as a coloured box.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/exercises.py
    """

    id: str
    correct: bool
    message: str

    def _repr_html_(self) -> str:
        colour, mark = ("#0a6b2c", "#e8f6ec") if self.correct else ("#8a5300", "#fff6e0")
        icon = "✓" if self.correct else "✗"
        return (
            f'<div style="color:{colour};background:{mark};padding:6px;border-radius:4px">'
            f"<b>{icon} Exercise {html.escape(self.id)}</b>: {html.escape(self.message)}</div>"
        )

    def __repr__(self) -> str:
        return f"Exercise {self.id}: {'correct' if self.correct else 'not yet'} — {self.message}"


def strict() -> bool:
    """True under the test command (``COURSE_EXERCISES_STRICT=1``): a wrong answer fails instead of hinting.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/exercises.py
    """
    return os.environ.get("COURSE_EXERCISES_STRICT", "0").strip() == "1"


def check(id: str, answer: Any) -> Result:
    """Check a learner's ``answer`` to exercise ``id`` on cases the learner does not see.

    Returns a :class:`Result` ("correct", or a specific hint). An answer that raises an error is
    reported as a hint with the error's message, not as a traceback.

    Defined in: notebooks/00_start_here.ipynb
    """
    ex = load(id)
    if answer is None or answer is Ellipsis:
        result = Result(id, False, f"No answer yet: write {ex.expects} in the cell above, run it, then run this cell.")
    else:
        try:
            ex.check(answer)
            result = Result(id, True, "Correct.")
        except Hint as h:
            result = Result(id, False, str(h))
        except Exception as e:  # the learner's code failed on a hidden case: say how, kindly
            result = Result(id, False, f"Your answer raised {type(e).__name__}: {e}. Expected {ex.expects}.")
    if strict() and not result.correct:
        raise AssertionError(f"exercise {id}: the notebook's own solution does not pass its check: {result.message}")
    return result
