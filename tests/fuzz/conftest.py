"""Hypothesis profiles of the fuzzing suite and its sandbox (a temporary working folder, a memory cap).

``HYPOTHESIS_PROFILE`` picks the profile (fuzzlib.FUZZ_SETTINGS); without it, ``CI=true`` picks "ci" and
anything else "quick".
Both are deterministic (``derandomize=True``) and keep no example database, so CI cannot flake and
nothing is written into the repository.
"""

import os
import resource

import pytest
import torch
from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("quick", max_examples=5, **_COMMON)
settings.register_profile("ci", max_examples=10, **_COMMON)  # twice the quick profile: a few minutes of CI
# Not loaded globally (that would change other test files' hypothesis settings in the same worker):
# the fuzz tests apply fuzzlib.FUZZ_SETTINGS, the profile picked here.

MEMORY_CAP = 8 * 2**30  # a huge size must fail fast, not swap the machine


@pytest.fixture(scope="module", autouse=True)
def fuzz_sandbox(tmp_path_factory):
    """Run in a temporary folder (relative paths land there) with the address space capped."""
    old_cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("fuzz"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = MEMORY_CAP if hard == resource.RLIM_INFINITY else min(MEMORY_CAP, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        os.chdir(old_cwd)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Fuzz on one PyTorch thread: tiny calls, and no thread pool to oversubscribe beside the other worker."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
