"""Valid arguments for the fuzzing suite: part c (merged into pool.POOL / OVERRIDES / ONLY_MUTATE).

Split from pool.py so that separate parts of the course can be added without touching one file; the
names here follow pool.py's conventions (a builder returning a hypothesis strategy; OVERRIDES keyed by
"module.name").
"""

from __future__ import annotations

POOL_EXTRA: dict = {}
OVERRIDES_EXTRA: dict[str, dict] = {}
ONLY_MUTATE_EXTRA: dict[str, list[str]] = {}
