"""Course-wide settings: fast mode, seeds, device, threads and paths.

Defined in: notebooks/00_start_here.ipynb

* :func:`is_fast` is True when the environment variable ``COURSE_FAST`` is set to ``1`` (the test
  command and CI set it). It reads the environment at every call, so ``%env COURSE_FAST=1`` takes
  effect at once, even after ``course_lib`` was imported. Fast mode makes work *smaller* (fewer
  steps, smaller subsets); it never fakes a result.
* ``choose(full=..., fast=...)`` picks the value for the current mode.
* Paths (``ROOT``, ``DATA_DIR`` ...) are absolute, so the library works from any working directory.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from .checks import check_int

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
CHECKPOINT_DIR = DATA_DIR / "checkpoints"
NOTEBOOKS_DIR = ROOT / "notebooks"
SHA256SUMS = DATA_DIR / "SHA256SUMS"

_TRUE = {"1", "true", "yes", "on"}


def is_fast() -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes/on (read from the environment each call).

    Defined in: notebooks/00_start_here.ipynb
    """
    return os.environ.get("COURSE_FAST", "0").strip().lower() in _TRUE


def choose(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise, e.g. ``steps = choose(full=2000, fast=100)``.

    Defined in: notebooks/00_start_here.ipynb
    """
    return fast if is_fast() else full


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's global generators; return a seeded ``torch.Generator``.

    Defined in: notebooks/00_start_here.ipynb
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"set_seed expects an integer seed, got {seed!r} ({type(seed).__name__})")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return torch.Generator().manual_seed(int(seed))


def get_device() -> torch.device:
    """The best available device: CUDA if present, else CPU (the course is sized for a CPU).

    Defined in: notebooks/00_start_here.ipynb
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def available_cpus() -> int:
    """CPUs this process may really use: CPU affinity and a container's CPU quota (cgroups v1/v2).

    Binder reports the host's many cores through ``os.cpu_count()`` while granting 1-2; starting
    one PyTorch thread per reported core would make every matrix product crawl.

    Defined in: notebooks/00_start_here.ipynb
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        n = os.cpu_count() or 1
    quota = None
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if text and text[0] != "max":
            quota = int(text[0]) / int(text[1])
    except (OSError, ValueError, IndexError):
        try:
            q = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
            p = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
            if q > 0 and p > 0:
                quota = q / p
        except (OSError, ValueError):
            quota = None
    if quota is not None:
        n = min(n, max(1, int(quota + 0.5)))
    return max(1, n)


MAX_THREADS = 256  # more threads than this are refused (they would crash PyTorch's thread pool)


def configure_threads(n: int | None = None) -> int:
    """Set PyTorch's intra-op threads to ``n`` (default: ``COURSE_THREADS`` or :func:`available_cpus`).

    Called once when ``course_lib`` is imported. Returns the number of threads set.

    Defined in: notebooks/00_start_here.ipynb
    """
    if n is not None:
        n = check_int(n, "n", min=1, max=MAX_THREADS)
    if n is None:
        env = os.environ.get("COURSE_THREADS", "").strip()
        if env:
            if not env.isdigit() or int(env) < 1:
                raise ValueError(f"COURSE_THREADS must be a positive integer, got {env!r}")
            n = int(env)
        else:
            n = available_cpus()
    torch.set_num_threads(int(n))
    return int(n)
