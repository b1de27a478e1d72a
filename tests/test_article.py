"""The article's words are quoted verbatim, from one place, and every erratum points at its demonstration.

The full text is not shipped with the course; it sits beside the repository in ``../shared/article/``
for the course's authors. Without it, the verbatim checks skip and say why.
"""

import json
import re
from pathlib import Path

import pytest

from course_lib import article

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT.parent / "shared" / "article" / "article.md"
needs_article = pytest.mark.skipif(
    not ARTICLE.exists(), reason=f"the article's text is not here ({ARTICLE}); learners do not have it"
)
CJK = re.compile(r"[\u3400-\u9fff]")


def _passages():
    for section, value in article.QUOTES.items():
        for i, p in enumerate([value] if isinstance(value, str) else value):
            yield section, i, p


@needs_article
@pytest.mark.parametrize("section,i,passage", list(_passages()), ids=lambda v: str(v)[:20])
def test_every_quotation_occurs_verbatim(section, i, passage):
    assert passage in ARTICLE.read_text(encoding="utf-8"), f"§{section} passage {i} is not in the article"


@needs_article
def test_headings_quotes_and_program_are_the_articles():
    text = ARTICLE.read_text(encoding="utf-8")
    for section, heading in article.HEADINGS.items():
        assert heading in text, f"§{section} heading {heading!r} is not the article's"
        if section != "0":
            assert re.search(rf"^#+ {re.escape(section)}\.? {re.escape(heading)}$", text, re.M), section
    code = re.search(r"```python\n(import tensorflow.*?)\n```", text, re.S).group(1)
    assert article.PROGRAM.rstrip("\n") == code
    for e in article.ERRATA:
        assert e.quote in text, f"erratum §{e.section}: {e.quote!r} is not in the article"


@needs_article
def test_no_chinese_in_the_course_that_the_article_does_not_contain():
    art = re.sub(r"\s+", "", ARTICLE.read_text(encoding="utf-8"))
    files = [*ROOT.glob("course_lib/**/*.py"), *ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("*.md"),
             *ROOT.glob("docs/**/*.md"), *ROOT.glob("tools/*.py"), *ROOT.glob("tests/*.py")]  # fmt: skip
    bad = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        if f.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        for run in re.findall(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]{3,}", text):
            run = re.sub(r"[\u3000-\u303f\uff00-\uffef]+$", "", run)
            if len(run) >= 3 and run not in art:
                bad.append(f"{f.relative_to(ROOT)}: {run}")
    assert not bad, "\n".join(sorted(set(bad)))


def test_errata_are_many_distinct_and_point_at_existing_headings_or_planned():
    assert len(article.ERRATA) >= 25
    assert len({(e.section, e.quote, e.problem) for e in article.ERRATA}) == len(article.ERRATA)
    problems = []
    for e in article.ERRATA:
        assert e.section in article.HEADINGS, e.section
        assert e.problem.strip() and e.correction.strip()
        if e.planned:
            continue
        path = ROOT / "notebooks" / f"{e.notebook}.ipynb"
        headings = {
            line.lstrip("#").strip()
            for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines()
            if line.startswith("#")
        }
        if e.heading not in headings:
            problems.append(f"§{e.section} → {e.notebook}: no heading {e.heading!r}")
    assert not problems, "\n".join(problems)


def test_quote_and_show_quote():
    assert article.quote("6.1") == article.QUOTES["6.1"]
    assert article.quote("1", 1) == article.QUOTES["1"][1]
    md = article.show_quote("4.1.3.2")._repr_markdown_()
    assert md.startswith("**§4.1.3.2 GAN**") and "$$L_G" in md
    assert article.show_quote("5.2")._repr_markdown_().count("```") == 2
    with pytest.raises(ValueError, match="no quotation for section"):
        article.quote("10.1")
    with pytest.raises(ValueError, match="index must be"):
        article.quote("1", 7)
    table = article.errata_table()
    assert len(table) == len(article.ERRATA) and set(table["§"]) <= set(article.HEADINGS)
