"""One validation helper per kind of argument, used by every public function that takes one.

Defined in: notebooks/00_start_here.ipynb

Each helper returns the value in its canonical form (an ``int``, a ``float``, a ``Path`` ...) or
raises :class:`~course_lib.errors.ArgumentError` / :class:`~course_lib.errors.ArgumentTypeError`
with a message that names the argument, says what was expected and shows what was given. A
function then opens with one line per argument, and its body shows the idea::

    seed = check_seed(seed)
    p = check_probability(top_p, "top_p", allow_zero=False)
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from .errors import ArgumentError, ArgumentTypeError, InputError

MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a signed 64-bit integer
MAX_WIDTH = 1 << 16  # layer widths above this are refused: the weights would not fit in memory
MAX_PATH_CHARS = 4096  # longer paths are refused (the operating system's own limit, PATH_MAX)


def _shown(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_int(value, name: str, *, min: int | None = None, max: int | None = None) -> int:
    """An integer (bools and floats refused) within ``[min, max]``.

    Defined in: notebooks/00_start_here.ipynb
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be an integer, got {_shown(value)} ({type(value).__name__})")
    value = int(value)
    if (min is not None and value < min) or (max is not None and value > max):
        lo = "" if min is None else f"{min} ≤ "
        hi = "" if max is None else f" ≤ {max}"
        raise ArgumentError(f"{name} must be an integer with {lo}{name}{hi}, got {value}")
    return value


def check_float(
    value,
    name: str,
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
) -> float:
    """A finite real number (bools refused; NumPy and 0-dim tensors accepted) within the given bounds.

    ``min_open``/``max_open`` make a bound strict.

    Defined in: notebooks/00_start_here.ipynb
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dim() == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number, got {_shown(value)} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ArgumentError(f"{name} must be a finite number, got {value}")
    too_low = min is not None and (value <= min if min_open else value < min)
    too_high = max is not None and (value >= max if max_open else value > max)
    if too_low or too_high:
        lo = "" if min is None else f"{min} {'<' if min_open else '≤'} "
        hi = "" if max is None else f" {'<' if max_open else '≤'} {max}"
        raise ArgumentError(f"{name} must satisfy {lo}{name}{hi}, got {value:g}")
    return value


def check_seed(value, name: str = "seed") -> int:
    """A seed for ``torch.Generator().manual_seed``: an integer in 0 … 2⁶³ − 1.

    Defined in: notebooks/00_start_here.ipynb
    """
    return check_int(value, name, min=0, max=MAX_SEED)


def check_probability(value, name: str, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """A probability in [0, 1]; ``allow_zero=False`` / ``allow_one=False`` exclude an end.

    Defined in: notebooks/00_start_here.ipynb
    """
    return check_float(value, name, min=0.0, max=1.0, min_open=not allow_zero, max_open=not allow_one)


def check_choice(value, name: str, choices: Sequence):
    """One of ``choices`` (compared with ``==``).

    Defined in: notebooks/00_start_here.ipynb
    """
    if not any(type(value) is type(c) and value == c for c in choices):  # type first: a tensor == c is a tensor
        raise ArgumentError(f"{name} must be one of {', '.join(map(repr, choices))}; got {_shown(value)}")
    return value


def check_text(value, name: str, *, max_len: int | None = None) -> str:
    """A ``str`` of at most ``max_len`` characters (the limit is said in the message).

    Defined in: notebooks/00_start_here.ipynb
    """
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a string, got {type(value).__name__}")
    if max_len is not None and len(value) > max_len:
        raise ArgumentError(f"{name} is {len(value):,} characters long; the limit is {max_len:,}")
    return value


def check_instance(value, name: str, types: type | tuple[type, ...], what: str | None = None):
    """An instance of ``types`` (a model, a config, a tokenizer ...); ``what`` names the expected kind.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/nn_utils.py
    """
    if not isinstance(value, types):
        want = what or " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise ArgumentTypeError(f"{name} must be a {want}, got {_shown(value)} ({type(value).__name__})")
    return value


def check_flag(value, name: str) -> bool:
    """A yes/no switch: ``True`` or ``False`` (NumPy bools accepted; numbers, strings and tensors refused).

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/references.py
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {_shown(value)} ({type(value).__name__})")
    return bool(value)


def check_recipe(recipe, defaults: dict, name: str = "recipe") -> dict:
    """``defaults`` with the entries of ``recipe`` (a dict, or None for the defaults) in their place; an entry
    the defaults do not have is refused with the list of the ones it may set.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/scaling.py
    """
    if recipe is None:
        return dict(defaults)
    check_instance(recipe, name, dict)
    unknown = sorted(set(recipe) - set(defaults))
    if unknown:
        raise ArgumentError(f"{name} has unknown entries {unknown}; it may set {', '.join(defaults)}")
    return {**defaults, **recipe}


_DTYPES = {
    "float": (torch.float16, torch.bfloat16, torch.float32, torch.float64),
    "integer": (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64),
    "long": (torch.int64,),
    "bool": (torch.bool,),
}


def check_tensor(
    value,
    name: str,
    *,
    dim: int | Iterable[int] | None = None,
    dtype: str | None = None,
    shape: Sequence[int | None] | None = None,
    finite: bool = False,
) -> torch.Tensor:
    """A tensor with the given number of dimensions, dtype family and shape.

    ``dtype`` is ``"float"``, ``"integer"``, ``"long"`` or ``"bool"``; ``shape`` may hold ``None`` for
    "any size"; ``finite=True`` refuses NaN and ±inf.

    Defined in: notebooks/00_start_here.ipynb
    """
    if not isinstance(value, torch.Tensor):
        raise ArgumentTypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    dims = (dim,) if isinstance(dim, int) else tuple(dim) if dim is not None else None
    if dims is not None and value.dim() not in dims:
        want = " or ".join(str(d) for d in dims)
        raise ArgumentError(f"{name} must have {want} dimensions, got shape {tuple(value.shape)}")
    if shape is not None and (
        value.dim() != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape))
    ):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ArgumentError(f"{name} must have shape {want}, got {tuple(value.shape)}")
    if dtype is not None and value.dtype not in _DTYPES[dtype]:
        raise ArgumentTypeError(f"{name} must be a {dtype} tensor, got dtype {value.dtype}")
    if finite and value.is_floating_point() and not torch.isfinite(value).all():
        raise ArgumentError(f"{name} contains NaN or infinite values")
    return value


def check_token_ids(ids, name: str, vocab_size: int) -> torch.Tensor:
    """Integer token ids in 0 … vocab_size − 1 (float ids are refused, never truncated).

    Defined in: notebooks/00_start_here.ipynb
    """
    check_tensor(ids, name, dtype="integer")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ArgumentError(
            f"{name} must hold token ids in 0..{vocab_size - 1} (vocab_size={vocab_size}), "
            f"got min {int(ids.min())} and max {int(ids.max())}"
        )
    return ids


def check_mask(mask, name: str, target_shape: Sequence[int], *, exact_dims: bool = False) -> torch.Tensor:
    """A bool mask (True = allowed) that broadcasts to ``target_shape``.

    ``exact_dims=True`` requires as many dimensions as ``target_shape``: a (B, T) padding mask given to
    (B, H, T_q, T_k) scores would otherwise broadcast against the wrong axes when B equals H.

    Defined in: notebooks/00_start_here.ipynb
    """
    check_tensor(mask, name, dtype="bool")
    try:
        torch.broadcast_shapes(mask.shape, torch.Size(target_shape))
    except RuntimeError:
        raise ArgumentError(
            f"{name} of shape {tuple(mask.shape)} does not broadcast to {tuple(target_shape)}"
        ) from None
    if exact_dims and mask.dim() != len(target_shape):
        raise ArgumentError(
            f"{name} must have {len(target_shape)} dimensions to match {tuple(target_shape)} "
            f"(add the missing axes with [:, None]), got shape {tuple(mask.shape)}"
        )
    return mask


def check_path(value, name: str = "path", *, kind: str = "file", must_exist: bool = True) -> Path:
    """A ``str`` or ``Path``; with ``must_exist`` it must be an existing ``kind`` (``"file"`` or ``"dir"``).

    Defined in: notebooks/00_start_here.ipynb
    """
    if not isinstance(value, (str, Path)):
        raise ArgumentTypeError(f"{name} must be a path (str or pathlib.Path), got {type(value).__name__}")
    if len(str(value)) > MAX_PATH_CHARS or "\x00" in str(value):
        raise ArgumentError(f"{name} is not a usable path (over {MAX_PATH_CHARS:,} characters or a NUL character)")
    path = Path(value)
    if must_exist:
        if not path.exists():
            raise ArgumentError(f"{name} {str(path)!r} does not exist")
        if kind == "file" and not path.is_file():
            raise ArgumentError(f"{name} {str(path)!r} is not a file (it is a directory or a special file)")
        if kind == "dir" and not path.is_dir():
            raise ArgumentError(f"{name} {str(path)!r} is not a directory")
    return path


def require_text(value: str, what: str = "some text") -> str:
    """Strip ``value`` and raise :class:`InputError` ("Type ...") when it is empty.

    Defined in: notebooks/00_start_here.ipynb
    """
    if value is None or not str(value).strip():
        raise InputError(f"Type {what} in the box above.")
    return str(value).strip()


def closest_matches(word: str, vocabulary, n: int = 5) -> list[str]:
    """Close spellings of ``word`` in ``vocabulary`` (for "did you mean ...?" messages).

    Defined in: notebooks/00_start_here.ipynb
    """
    check_text(word, "word")
    check_int(n, "n", min=1)
    return difflib.get_close_matches(word, list(vocabulary), n=n, cutoff=0.7)
