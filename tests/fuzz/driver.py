"""Builds, for one public item, the hypothesis strategy of a call: a valid baseline, then at most one
argument replaced by a bad value (from :data:`fuzzlib.BAD`)."""

from __future__ import annotations

import inspect

from fuzzlib import BAD
from hypothesis import strategies as st
from pool import ONLY_MUTATE, OVERRIDES, POOL
from registry import VALID_CALL_ELSEWHERE


class NoBaseline(LookupError):
    """An item has a required parameter for which neither POOL nor OVERRIDES gives a valid value."""


def parameters(obj) -> list[inspect.Parameter]:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


SMALL = dict(
    vocab_size=20,
    src_vocab_size=20,
    block_size=8,
    n_layer=1,
    n_head=2,
    n_embd=8,
    n_hidden=8,
    latent_dim=2,
    memory_size=4,
    sentence_len=4,
    n_hops=1,
)


def config_strategy(obj, name: str):
    """A tiny instance of the dataclass that ``obj``'s parameter ``name`` is annotated with, if any."""
    import dataclasses
    import typing

    try:
        hint = typing.get_type_hints(obj.__init__ if inspect.isclass(obj) else obj).get(name)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: no config can be built
        return None
    for cls in typing.get_args(hint) or (hint,):
        if dataclasses.is_dataclass(cls):
            fields = {f.name for f in dataclasses.fields(cls)}
            return st.builds(lambda cls=cls, fields=fields: cls(**{k: v for k, v in SMALL.items() if k in fields}))
    return None


def baseline(key: str, obj) -> dict:
    """``{name: strategy}`` of a valid call (parameters with a default and no pool entry are left out)."""
    over = OVERRIDES.get(key, {})
    out, missing = {}, []
    for p in parameters(obj):
        if p.name in over:
            out[p.name] = over[p.name]
        elif p.name in POOL:
            out[p.name] = POOL[p.name]()
        elif p.name in ("config", "cfg") and config_strategy(obj, p.name) is not None:
            out[p.name] = config_strategy(obj, p.name)
        elif p.default is p.empty:
            missing.append(p.name)
    if missing:
        raise NoBaseline(f"{key}: no valid value for {', '.join(missing)} (add it to tests/fuzz/pool.py)")
    return out


def call_strategy(key: str, obj, *, mutate: bool = True):
    """A strategy of ``(kwargs, mutated_name_or_None)``."""
    base = baseline(key, obj)
    names = ONLY_MUTATE.get(key, [p.name for p in parameters(obj)])
    kwargs = st.fixed_dictionaries(base)
    if not mutate or not names:
        return st.tuples(kwargs, st.none())
    if key in VALID_CALL_ELSEWHERE:  # the valid call is too slow here: every draw spoils one argument
        return st.tuples(kwargs, st.sampled_from(names), BAD).map(lambda a: ({**a[0], a[1]: a[2]}, a[1]))

    def spoil(args):
        kw, which, bad = args
        if which is None:
            return kw, None
        return {**kw, which: bad}, which

    return st.tuples(kwargs, st.sampled_from([None, *names]), BAD).map(spoil)
