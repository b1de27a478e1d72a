"""The fuzzing suite covers every public function, class and panel of course_lib.

An item is covered when test_fuzz_functions.py can build a valid call for it (pool.py) or when
registry.py exempts it with a reason, lists it as NOT YET FUZZED (with what is missing) or as a KNOWN
FINDING (fuzzing found a raw exception that is not fixed yet: it is left out of the CI run). A panel
factory (a public function whose name ends in ``_panel``) must also be driven by test_fuzz_panels.py
or be listed in registry.PANELS_NOT_YET. A new public item that is in none of these fails this test.
"""

from pathlib import Path

from driver import NoBaseline, baseline
from fuzzlib import public_items
from registry import EXEMPT, KNOWN_FINDINGS, NOT_YET, PANELS_NOT_YET, VALID_CALL_ELSEWHERE, VALIDATION_ONLY
from test_fuzz_panels import PANELS

ITEMS = public_items()


def test_registry_names_exist_and_give_reasons():
    for table in (EXEMPT, NOT_YET, KNOWN_FINDINGS, VALIDATION_ONLY, VALID_CALL_ELSEWHERE, PANELS_NOT_YET):
        unknown = sorted(set(table) - set(ITEMS))
        assert not unknown, f"registry.py names items that course_lib no longer has: {unknown}"
        assert all(isinstance(r, str) and len(r) > 10 for r in table.values()), "every entry needs a reason"
    tables = {"EXEMPT": EXEMPT, "NOT_YET": NOT_YET, "KNOWN_FINDINGS": KNOWN_FINDINGS}
    for a in tables:
        for b in tables:
            both = sorted(set(tables[a]) & set(tables[b])) if a < b else []
            assert not both, f"in both {a} and {b}: {both}"
    stale = sorted(set(VALIDATION_ONLY) - set(ITEMS) | (set(VALIDATION_ONLY) & (set(EXEMPT) | set(NOT_YET))))
    assert not stale, f"VALIDATION_ONLY lists items that are not fuzzed: {stale}"
    elsewhere = sorted(set(VALID_CALL_ELSEWHERE) & (set(EXEMPT) | set(NOT_YET) | set(VALIDATION_ONLY)))
    assert not elsewhere, f"VALID_CALL_ELSEWHERE lists items that are also in another table: {elsewhere}"
    for key, reason in VALID_CALL_ELSEWHERE.items():  # the named test exists
        path, _, test = reason.rpartition(" ")[2].partition("::")  # the reason ends with the test
        source = (Path(__file__).parents[2] / path).read_text(encoding="utf-8")
        assert f"def {test}(" in source, f"{key}: {reason!r} names a test that does not exist"


def test_every_public_item_is_fuzzed_or_listed():
    missing = []
    for key, obj in sorted(ITEMS.items()):
        if key in EXEMPT or key in NOT_YET or key in KNOWN_FINDINGS:
            continue
        try:
            baseline(key, obj)
        except NoBaseline as e:
            missing.append(str(e))
    assert not missing, "public items neither fuzzed nor listed in tests/fuzz/registry.py:\n" + "\n".join(missing)


def test_every_panel_is_fuzzed_or_listed():
    factories = sorted(k for k in ITEMS if k.rsplit(".", 1)[1].endswith("_panel"))
    assert len(factories) >= 15, factories
    missing = [k for k in factories if k not in PANELS and k not in PANELS_NOT_YET]
    assert not missing, f"panel factories not fuzzed by test_fuzz_panels.py nor listed: {missing}"
    stale = sorted(set(PANELS) & set(PANELS_NOT_YET))
    assert not stale, f"fuzzed panels still listed as not yet fuzzed: {stale}"
