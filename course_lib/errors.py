"""The course's documented errors: every failure a learner can cause has one of these types.

Defined in: notebooks/00_start_here.ipynb

* :class:`ArgumentError` (a ``ValueError``) and :class:`ArgumentTypeError` (a ``TypeError``): a function
  was called with a value it cannot use; the message names the argument and says what was expected.
* :class:`InputError`: something a learner typed into a widget cannot be used (an empty box, an
  unknown word); a :class:`~course_lib.widgets.Panel` shows it as a friendly message.
* :class:`DataFileError`: a bundled data file is missing, damaged or not listed in ``data/SHA256SUMS``.
* :class:`CheckpointError`: a checkpoint file is missing, damaged or not a course checkpoint.

They all derive from :class:`CourseError`, so ``except CourseError`` catches exactly the errors the
course promises, and any other exception is a bug to report.
"""

from __future__ import annotations


class CourseError(Exception):
    """Base class of every error the course raises on purpose.

    Defined in: notebooks/00_start_here.ipynb
    """


class ArgumentError(CourseError, ValueError):
    """A function argument has a value the function cannot use; the message names the argument.

    Defined in: notebooks/00_start_here.ipynb
    """


class ArgumentTypeError(CourseError, TypeError):
    """A function argument has the wrong type; the message names the argument and the expected type.

    Defined in: notebooks/00_start_here.ipynb
    """


class InputError(ArgumentError):
    """Input a learner typed that cannot be used; the message is shown in the panel, kindly.

    Defined in: notebooks/00_start_here.ipynb
    """


class DataFileError(CourseError, RuntimeError):
    """A bundled data file is missing, corrupted or not listed in ``data/SHA256SUMS``.

    Defined in: notebooks/00_start_here.ipynb
    """


class CheckpointError(CourseError, RuntimeError):
    """A checkpoint file is missing, corrupted or not a course checkpoint.

    Defined in: notebooks/05_text_generation.ipynb
    """
