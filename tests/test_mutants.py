"""Each bug that once slipped past the suite, applied to a copy of course_lib, makes the tests fail."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_mutants", ROOT / "tools" / "check_mutants.py")
check_mutants = importlib.util.module_from_spec(spec)
sys.modules["check_mutants"] = check_mutants  # dataclasses look their module up there
spec.loader.exec_module(check_mutants)


def test_clean_code_passes_the_mutants_tests():
    assert check_mutants.check(None)


@pytest.mark.parametrize("mutant", check_mutants.MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught(mutant):
    assert check_mutants.check(mutant), f"the tests did not notice: {mutant.name}"
