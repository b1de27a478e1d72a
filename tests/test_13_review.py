"""Tests for notebook 13 (the review): the recorded results it quotes, the quiz (one correct option, feedback
that names a notebook, numeric answers from closed forms and recorded results, kind answers to bad input),
the books / tools / papers lists, the Keras-vs-PyTorch parameter count (exercise 13.1) against PyTorch's own
modules, and the errata shown in full."""

import html
import json
import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from course_lib import article, quiz, references
from course_lib.course import COURSE
from course_lib.errors import ArgumentError, InputError
from course_lib.labs import exercises as X
from course_lib.labs import review as lab
from course_lib.privacy import exposure_from_rank
from course_lib.results import RESULTS_DIR, load_results

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "13_review.ipynb"
STEMS = {nb.stem for nb in COURSE}
PLANNED = {"08", "09", "10", "11"}  # notebooks being written in parallel: feedback may point at them


def _notebook_text(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])


def _fake_results() -> dict:
    """A small results dict in the format of docs/results/*.json, for tests independent of recorded runs."""
    return {
        "01.baseline_bits": {"value": 2.0, "fmt": ".3f"},
        "01.baseline_order": {"value": 6, "fmt": "d"},
        "01.mlp_val_bits": {"value": 2.5, "fmt": ".3f"},
        "01.orders": {
            "columns": ["n", "val bits/char"],
            "rows": [[0, 6.0], [1, 4.8], [2, 3.6], [6, 2.0]],
            "formats": {"val bits/char": ".3f"},
        },
        "05.models": {
            "columns": ["model", "val bits/char"],
            "rows": [["6-gram Kneser–Ney", 2.0], ["GPT shipped", 1.7], ["LSTM shipped", 1.9]],
            "formats": {"val bits/char": ".3f"},
        },
        "03.bootstrap_low": {"value": -0.01, "fmt": "+.3f"},
        "03.bootstrap_high": {"value": 0.04, "fmt": "+.3f"},
        "11.goal_small_labels_met": {"value": True, "fmt": ""},
        "12.scaling_alpha": {"value": 0.05, "fmt": ".3f"},
    }


# ----------------------------------------------------------------------------------------------
# The recorded results the review quotes
# ----------------------------------------------------------------------------------------------
def _complete_results() -> dict:
    """A value for every key the review quotes (distinctive numbers, so the test can find them in the prose)."""
    out = _fake_results()
    scalars = {
        "00.shakespeare_chars": (1115394, ",d"), "03.best_model": ("bilstm (GloVe)", ""),
        "03.best_test_acc": (0.8191, ".3f"), "03.bow_test_acc": (0.8071, ".3f"), "05.greedy_loop_lstm": (37, ""),
        "08.best_bleu": (23.46, ".1f"), "08.best_model": ("GRU with attention", ""),
        "08.attention_gain_long": (6.78, "+.1f"), "09.memnet3_task2_median": (81.5, ".1f"),
        "10.sasrec_hr": (0.6543, ".3f"), "10.best_baseline": ("item-kNN", ""),
        "10.best_baseline_hr": (0.5432, ".3f"), "11.gpt_val_loss": (3.217, ".3f"), "11.unigram_loss": (5.876, ".3f"),
        "11.finetuned_all_labels": (0.8321, ".3f"),
        "11.best_all_labels_method": ("LoRA", ""), "11.best_all_labels_acc": (0.8345, ".3f"),
        "12.scaling_alpha_low": (0.0411, ".3f"), "12.scaling_alpha_high": (0.0622, ".3f"),
        "12.scaling_pred_100x": (1.234, ".2f"), "12.scaling_pred_100x_floor": (1.876, ".2f"),
        "12.compute_best_size": ("L2·d48", ""), "12.ddp_equal": (True, ""), "12.exposure_100_plain": (17.71, ".1f"),
        "12.exposure_100_dp8": (1.21, ".1f"), "12.dp_loss_cost_eps8": (0.389, "+.3f"),
        "12.dp_time_ratio": (2.81, ".1f"),
        "12.quant_size_ratio": (3.61, ".1f"), "12.quant_loss_change": (0.0012, "+.4f"),
        "12.kv_cache_speedup_fp32": (2.14, ".1f"), "12.head_top_loss_rise": (0.467, ".3f"),
    }  # fmt: skip
    out.update({k: {"value": v, "fmt": f} for k, (v, f) in scalars.items()})
    assert not lab.missing_results(out), lab.missing_results(out)
    return out


def _write_results(results: dict, directory: Path, skip: tuple[str, ...] = ()) -> Path:
    """Write ``results`` as docs/results/ does (one NN.json per notebook), leaving out the notebooks in ``skip``."""
    files: dict[str, dict] = {}
    for key, entry in results.items():
        if key[:2] not in skip:
            files.setdefault(key[:2], {})[key] = entry
    directory.mkdir(parents=True, exist_ok=True)
    for number, data in files.items():
        (directory / f"{number}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return directory


def _record_calls(stem: str) -> set[str]:
    text = _notebook_text(ROOT / "notebooks" / f"{stem}.ipynb")
    return set(re.findall(r"record(?:_table)?\(\s*[\"'](\d\d\.[0-9a-z_]+)[\"']", text))


def test_every_quoted_key_is_recorded_by_its_notebook():
    """Each key the review quotes is written by a record()/record_table() call of the notebook it names.

    Notebooks not written yet (08–11 while they are in progress) cannot be checked; their keys are the review's
    promise, and the answers that need them are skipped until the files exist (tested below).
    """
    problems = []
    for key in lab.RESULT_KEYS:
        nb = next(n for n in COURSE if n.stem[:2] == key[:2])
        if nb.exists and key not in _record_calls(nb.stem):
            problems.append(f"{key}: {nb.stem} has no record(...) call for it")
    assert not problems, "\n".join(problems)


def test_results_files_that_exist_hold_every_key_the_review_quotes_from_them():
    """A notebook's full run writes all its keys at once: a file that is present but lacks one is stale."""
    results = lab.load_results()
    present = {p.stem for p in RESULTS_DIR.glob("*.json")}
    stale = [k for k in lab.missing_results(results) if k[:2] in present]
    assert not stale, f"docs/results/ has these notebooks' files but not these keys (re-run them): {stale}"


def test_faq_answers_with_every_result_recorded(tmp_path):
    results = load_results(_write_results(_complete_results(), tmp_path / "results"))
    for section in lab.FAQ_ANSWERS:
        text = lab.faq_answer(section, results)
        assert "skipped" not in text and "not recorded" not in text and not re.search(r"\b(None|nan)\b", text)
    assert "attention adds 6.8 BLEU" in lab.faq_answer("9.2", results)  # the sign decides the verb
    results["08.attention_gain_long"] = {"value": -0.4, "fmt": ".1f"}
    assert "attention costs 0.4 BLEU" in lab.faq_answer("9.2", results)
    results = load_results(tmp_path / "results")
    assert "**23.5** BLEU" in lab.faq_answer("9.2", results) and "HR@10 **0.654**" in lab.faq_answer("9.2", results)
    assert "1,115,394 characters" in lab.faq_answer("9.1", results)
    assert "**1.900** and **1.700** bits" in lab.faq_answer("9.1", results)
    assert "**3.217** nats per token" in lab.faq_answer("9.3", results)
    assert "same weights as one step on the union batch: yes" in lab.faq_answer("9.4", results)
    assert "[0.041, 0.062]" in lab.faq_answer("9.5", results)


def test_faq_answers_with_no_results_skip_every_figure_and_name_its_notebook(tmp_path):
    results = load_results(tmp_path / "empty")  # a directory that does not exist: no results at all
    assert results == {}
    for section in lab.FAQ_ANSWERS:
        text = lab.faq_answer(section, results)
        for line in text.splitlines():
            if "answer skipped" in line:
                numbers = re.findall(r"`(\d\d)\.[0-9a-z_]+`", line)
                assert numbers and all(f"docs/results/{n}.json" in line for n in numbers), line
                assert not re.search(r"\d\.\d", line.split("answer skipped", 1)[1].replace(".json", "")), line
        assert not re.search(r"\*\*\d", text), f"§{section} states a number without results: {text}"
    assert lab.faq_answer("9.2", results).count("answer skipped") == 5
    assert "notebook 08" in lab.faq_answer("9.2", results) and "08.json" in lab.faq_answer("9.2", results)
    assert lab.loss_ladder(results).empty
    assert len(lab.missing_results(results)) == len(lab.RESULT_KEYS)


@pytest.mark.parametrize("absent", ["08", "09", "10", "11"])
def test_faq_answers_skip_only_what_an_absent_notebook_would_have_recorded(tmp_path, absent):
    complete = _complete_results()
    results = load_results(_write_results(complete, tmp_path / "results", skip=(absent,)))
    skipped = [
        line for s in lab.FAQ_ANSWERS for line in lab.faq_answer(s, results).splitlines() if "answer skipped" in line
    ]
    assert skipped, f"nothing skipped without {absent}.json"
    assert all(f"docs/results/{absent}.json" in line for line in skipped)
    assert all(re.findall(r"`(\d\d)\.", line) == [absent] * len(re.findall(r"`(\d\d)\.", line)) for line in skipped)
    assert {k[:2] for k in lab.missing_results(results)} == {absent}


def test_skipped_and_bullet():
    gone, there = lab.Recorded("08.best_bleu", missing=True), lab.Recorded("03.best_test_acc", 0.8, ".2f")
    line = lab.bullet("translation", [gone, there], lambda: pytest.fail("must not write an answer without its numbers"))
    assert "`08.best_bleu`" in line and "docs/results/08.json" in line and "03" not in line.split("—", 1)[1]
    assert lab.bullet("accuracy", [there], lambda: f"* {there}") == "* 0.80"
    with pytest.raises(ArgumentError, match="nothing is missing"):
        lab.skipped("accuracy", [there])
    with pytest.raises(ArgumentError, match="9.1"):
        lab.faq_answer("9.9")


def test_result_keys_are_one_list_used_by_the_notebook_and_the_quiz():
    keys = lab.RESULT_KEYS
    assert len(keys) == len(set(keys)), "RESULT_KEYS has duplicates"
    assert all(re.fullmatch(r"\d\d\.[0-9a-z_]+", k) for k in keys)
    assert all(k[:2] in {nb.stem[:2] for nb in COURSE} for k in keys)
    assert set(quiz.result_keys()) <= set(keys), "the quiz reads results not listed in RESULT_KEYS"
    assert {k for k, _, _ in lab.RESULT_CELLS} <= set(keys)
    text = _notebook_text(NOTEBOOK) + Path(lab.__file__).read_text(encoding="utf-8").split("RESULT_CELLS:", 1)[1]
    quoted = set(re.findall(r"[\"'](\d\d\.[0-9a-z_]+)[\"']", text)) | set(quiz.result_keys())
    unused = sorted(set(keys) - quoted)
    assert not unused, f"RESULT_KEYS lists keys nothing quotes: {unused}"
    unlisted = sorted(k for k in quoted - set(keys) if k[:2] != "13")  # "13.1" is the exercise
    assert not unlisted, f"notebook 13 quotes keys missing from RESULT_KEYS: {unlisted}"


def test_recorded_refuses_unlisted_keys_and_marks_missing_ones():
    fake = _fake_results()
    with pytest.raises(ArgumentError, match="RESULT_KEYS"):
        lab.recorded("12.not_a_key", fake)
    r = lab.recorded("01.baseline_bits", fake)
    assert f"{r}" == "2.000" and f"{r:.1f}" == "2.0" and not r.missing
    gone = lab.recorded("12.scaling_alpha_low", fake)
    assert gone.missing and "not recorded yet (notebook 12)" in f"{gone}"
    assert f"{lab.recorded('11.goal_small_labels_met', fake)}" == "yes"
    assert r.vs(lab.recorded("01.mlp_val_bits", fake)) == "below" and r.vs(gone) == ""
    with pytest.raises(ArgumentError, match="table"):
        lab.recorded("01.orders", fake)


def test_recorded_cell_picks_exactly_one_row():
    fake = _fake_results()
    assert lab.recorded_cell("05.models", {"model": "GPT shipped"}, "val bits/char", fake).value == 1.7
    assert lab.recorded_cell("05.models", {"model": "nobody"}, "val bits/char", fake).missing
    assert lab.recorded_cell("05.models", {"model": "GPT shipped"}, "no such column", fake).missing
    assert lab.recorded_cell("05.models", {"model": "GPT shipped"}, "val bits/char", {}).missing
    assert "05.models" not in lab.missing_results(fake)


def test_missing_results_names_keys_and_cells():
    fake = _fake_results()
    missing = lab.missing_results(fake)
    assert "12.exposure_100_plain" in missing and "01.baseline_bits" not in missing
    fake["05.models"]["rows"] = [["GPT shipped", 1.7]]
    assert any(m.startswith("05.models[") and "LSTM shipped" in m for m in lab.missing_results(fake))


def test_loss_ladder_uses_recorded_values_and_drops_missing_rows():
    ladder = lab.loss_ladder(_fake_results())
    assert list(ladder["bits/char"]) == [6.0, 4.8, 3.6, 2.0, 2.5, 1.9, 1.7]
    assert list(ladder["notebook"]) == ["01"] * 5 + ["05"] * 2
    assert "n = 6" in ladder["model"].iloc[3]
    assert lab.loss_ladder({}).empty
    assert lab.plot_loss_ladder(lab.loss_ladder({})) is not None


def test_interval_text_and_links():
    fake = _fake_results()
    low, high = lab.recorded("03.bootstrap_low", fake), lab.recorded("03.bootstrap_high", fake)
    assert lab._interval_text(low, high).startswith("includes 0")
    assert lab._interval_text(lab.Recorded("03.bootstrap_low", 0.01), high).startswith("lies above 0")
    assert lab._interval_text(lab.Recorded("03.bootstrap_low", missing=True), high) == ""
    assert lab.nb_link("12") == "[notebook 12](12_scale_privacy_interpretability.ipynb)"
    planned = [nb for nb in COURSE if not nb.exists]
    if planned:
        assert lab.nb_link(planned[0].stem[:2]).endswith("planned)")
    with pytest.raises(ArgumentError):
        lab.nb_link("99")


# ----------------------------------------------------------------------------------------------
# The quiz
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q", quiz.QUESTIONS, ids=lambda q: q.id)
def test_question_is_well_formed_and_points_at_a_notebook(q):
    assert q.stem in STEMS, q.notebook
    nb = next(n for n in COURSE if n.stem == q.stem)
    assert nb.exists or q.notebook in PLANNED, f"{q.id} points at {q.stem}, which does not exist"
    assert q.section in article.HEADINGS and q.where.strip() and q.explanation.strip()
    if q.kind == "choice":
        assert sum(c.correct for c in q.choices) == 1, f"{q.id} must have exactly one correct option"
        assert len({c.text for c in q.choices}) == len(q.choices) >= 3
        assert all(c.why.strip() for c in q.choices if not c.correct), f"{q.id}: a wrong option has no feedback"
    else:
        assert q.answer is not None and q.hint.strip() and not q.choices


def test_question_ids_unique_and_every_faq_and_section_7_question_has_a_quiz():
    ids = [q.id for q in quiz.QUESTIONS]
    assert len(ids) == len(set(ids))
    assert {"9.1", "9.2", "9.3", "9.4", "9.5", "7.1", "7.2", "7.3"} <= {q.section for q in quiz.QUESTIONS}
    kinds = {q.kind for q in quiz.QUESTIONS}
    assert kinds == {"choice", "number"}
    assert any(q.uses for q in quiz.QUESTIONS), "some numeric answer should come from the recorded results"


@pytest.mark.parametrize("q", [q for q in quiz.QUESTIONS if q.kind == "choice"], ids=lambda q: q.id)
def test_every_option_gets_feedback_that_names_the_notebook(q):
    for i, c in enumerate(q.choices):
        for answer in (i, c.text):
            v = quiz.grade(q, answer, _fake_results())
            assert v.correct == c.correct and v.notebook == q.stem and q.stem in v.message
            assert v.message.startswith("Right." if c.correct else "Not quite.")
            if not c.correct:
                assert c.why in v.message


@pytest.mark.parametrize("answer", [None, "", "   ", "no such option", 99, -1])
def test_choice_questions_refuse_empty_or_unknown_answers_kindly(answer):
    with pytest.raises(InputError, match="Pick one"):
        quiz.grade(quiz.question("9.1a"), answer)


def test_numeric_answers_closed_forms_against_independent_references():
    mha = nn.MultiheadAttention(embed_dim=128, num_heads=4)
    assert quiz.correct_answer(quiz.question("7.2a")) == sum(p.numel() for p in mha.parameters())
    assert quiz.correct_answer(quiz.question("9.4b")) == exposure_from_rank(1, 2**20)
    ratio = torch.empty(0, dtype=torch.float32).element_size() / torch.empty(0, dtype=torch.int8).element_size()
    assert quiz.correct_answer(quiz.question("9.4c")) == ratio


def test_numeric_answers_from_recorded_results():
    fake = _fake_results()
    assert quiz.correct_answer(quiz.question("9.1b"), fake) == 4.0  # 2 ** 2 bits
    assert "2.000 bits per character" in quiz.prompt_text(quiz.question("9.1b"), fake)
    factor = quiz.correct_answer(quiz.question("9.5a"), fake)
    assert math.isclose(factor**-0.05, 0.9)  # the loss falls by 10% when N grows by the factor
    with pytest.raises(ArgumentError, match="tools/measure_notebooks.py"):
        quiz.correct_answer(quiz.question("9.5a"), {})


@pytest.mark.parametrize("q", [q for q in quiz.QUESTIONS if q.kind == "number"], ids=lambda q: q.id)
def test_numeric_grading_tolerance_and_feedback(q):
    fake = _fake_results()
    truth = quiz.correct_answer(q, fake)
    right = quiz.grade(q, f"{truth * (1 + q.rel_tol / 2):,.6f}", fake)
    assert right.correct and right.message.startswith("Right.") and q.stem in right.message
    assert format(truth, q.fmt) in right.message or "{answer}" not in q.explanation
    for wrong, word in ((truth * 1.5 + 1, "too high"), (truth * 0.5 - 1, "too low")):
        v = quiz.grade(q, str(wrong), fake)
        assert not v.correct and word in v.message and q.hint in v.message and q.stem in v.message


@pytest.mark.parametrize(
    "text, value", [("66,048", 66048.0), (" 2.4e6 ", 2.4e6), ("12×", 12.0), ("−3", -3.0), ("1_000", 1000.0), (4, 4.0)]
)
def test_parse_number_reads_what_learners_type(text, value):
    assert quiz.parse_number(text) == value


@pytest.mark.parametrize("text", ["", "   ", None, "abc", "2**20", "__import__('os')", "1/0", "nan", "inf", "1e999"])
def test_parse_number_refuses_anything_else_kindly(text):
    with pytest.raises(InputError):
        quiz.parse_number(text)


def test_quiz_panels_answer_kindly_and_escape():
    fake = _fake_results()
    panel = lab.quiz_panel("9.1a", fake)
    assert panel.error is None and "Pick an answer" in panel.text
    q = quiz.question("9.1a")
    panel.controls["answer"].value = q.choices[1].text
    assert "Not quite" in panel.text and q.stem in panel.text and "✗" in panel.text
    panel.controls["answer"].value = q.choices[0].text
    assert "Right" in panel.text and "✓" in panel.text

    panel = lab.quiz_panel("9.1b", fake)
    assert panel.error and "Type a number" in panel.text  # an empty box
    panel.controls["answer"].value = "<b>four</b>"
    assert panel.error and "not a number" in panel.text
    assert "<b>four</b>" not in panel._html.value and "&lt;b&gt;" in panel._html.value
    panel.controls["answer"].value = "4"
    assert panel.error is None and "Right" in panel.text and "4.00" in panel.text
    assert "2.000 bits" in panel.widget.children[0].value  # the prompt, with the recorded value

    missing = lab.quiz_panel("9.5a", {})
    assert missing.error and "measure_notebooks" in missing.text
    with pytest.raises(ArgumentError, match="no question"):
        lab.quiz_panel("9.9z")
    own = quiz.Question("own.1", "9.1", "2 + 2?", "01", "nowhere", "Four.", answer=lambda: 4.0, hint="Add.")
    panel = lab.quiz_panel(own)
    panel.controls["answer"].value = "4"
    assert "Right" in panel.text and "01_background_ngram" in panel.text


def test_verdict_html_escapes_and_links_existing_notebooks():
    out = lab.verdict_html(quiz.question("7.3a"), 0)
    assert 'href="04_attention.ipynb"' in out and "✓" in out
    assert "<script" not in lab.verdict_html(quiz.question("7.3a"), 1)


def test_quiz_overview_has_every_question():
    table = lab.quiz_overview()
    assert list(table["question"]) == [q.id for q in quiz.QUESTIONS]


# ----------------------------------------------------------------------------------------------
# Books, tools, papers
# ----------------------------------------------------------------------------------------------
def test_books_have_the_right_titles_for_section_7_1():
    titles = {b.title: b for b in references.BOOKS}
    assert titles["Deep Learning"].authors == "Ian Goodfellow, Yoshua Bengio, Aaron Courville"
    assert "Speech and Language Processing (3rd edition draft)" in titles
    cs224n = next(b for b in references.BOOKS if "Natural Language Processing with Deep Learning" in b.title)
    assert cs224n.kind == "course"
    assert all(b.kind in {"book", "course"} and b.authors and b.published and b.why for b in references.BOOKS)
    assert len(references.books_table()) == len(references.BOOKS)


def test_tools_are_pinned_and_point_at_notebooks():
    pins = references.pinned_versions()
    assert pins, "requirements.txt has no pins"
    for t in references.TOOLS:
        assert t.package in pins, f"{t.package} is not pinned in requirements*.txt"
        assert t.notebooks == ("all",) or all(n[:2] in {s[:2] for s in STEMS} for n in t.notebooks)
    table = references.tools_table()
    assert "—" not in set(table["version"]) and table.loc[table.package == "torch", "version"].item() == pins["torch"]


def test_papers_map_to_notebooks_and_include_what_the_course_relies_on():
    papers = {p.title: p for p in references.PAPERS}
    assert len(papers) == len(references.PAPERS), "a paper is listed twice"
    assert papers["Attention Is All You Need"].notebooks == ("04",) and papers["Attention Is All You Need"].article
    bert = papers["BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"]
    assert bert.notebooks == ("11",) and bert.article
    assert sum(p.article for p in references.PAPERS) == 2 == len(article.QUOTES["7.3"])
    needed = ["Distributed Representations of Words", "GloVe", "Jointly Learning to Align", "End-To-End Memory",
              "Auto-Encoding Variational Bayes", "Generative Adversarial Nets", "Self-Attentive Sequential",
              "The Secret Sharer", "M-gram Language Modeling", "Neural Text Degeneration"]  # fmt: skip
    for words in needed:
        assert any(words in t for t in papers), f"no paper titled like {words!r}"
    numbers = {s[:2] for s in STEMS}
    for p in references.PAPERS:
        assert p.notebooks and all(n in numbers for n in p.notebooks), p.title
        assert 1990 <= p.year <= 2025 and p.venue and p.role and p.authors
    table = references.papers_table()
    assert list(table["§7.3"][:2]) == ["✓", "✓"] and len(table) == len(references.PAPERS)
    assert len(references.papers_table(article_only=True)) == 2


def test_each_paper_is_named_in_the_notebooks_it_is_mapped_to():
    """A paper mapped to an existing notebook is named there (in the notebook or a module defined for it)."""
    sources = {p: p.read_text(encoding="utf-8") for p in (ROOT / "course_lib").rglob("*.py")}
    problems = []
    for paper in references.PAPERS:
        for number in paper.notebooks:
            nb = next(n for n in COURSE if n.stem[:2] == number)
            if not nb.exists:
                continue
            in_lib = any(paper.named_as in t and f"notebooks/{nb.stem}.ipynb" in t for t in sources.values())
            if paper.named_as not in _notebook_text(nb.path) and not in_lib:
                problems.append(f"{paper.authors} ({paper.year}) → {nb.stem}: {paper.named_as!r} not mentioned")
    assert not problems, "\n".join(problems)


def test_papers_timeline_plot():
    fig = lab.plot_papers_timeline()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == len(references.PAPERS) and labels[0].endswith(f"({min(p.year for p in references.PAPERS)})")


# ----------------------------------------------------------------------------------------------
# §7.2: Keras beside PyTorch; exercise 13.1
# ----------------------------------------------------------------------------------------------
def test_keras_beside_pytorch_shows_the_printed_program_and_the_port():
    view = lab.keras_beside_pytorch()
    page = view._repr_html_()
    assert lab.PORT_MODEL.__name__ in page and lab.PORT_LOSS.__name__ in page
    text = repr(view)
    assert lab.program_excerpt() in text and "model.compile(" in text and "model.fit(" not in lab.program_excerpt()
    assert lab.program_excerpt() in article.PROGRAM
    with pytest.raises(ArgumentError):
        lab.program_excerpt("no_such_line", "model.compile(")


def test_program_sizes_are_the_printed_hyper_parameters():
    assert lab.program_sizes() == {
        "vocab_size": 10000, "embedding_dim": 100, "hidden_size": 128, "batch_size": 64, "learning_rate": 0.001,
    }  # fmt: skip


@pytest.mark.parametrize("v, d, h", [(10000, 100, 128), (65, 32, 64), (3, 2, 1)])
def test_reference_count_is_pytorchs_minus_one_bias_per_gate(v, d, h):
    counts = lab.torch_reference_count(v, d, h)
    assert counts["PyTorch total"] == v * d + 4 * h * (d + h + 2) + h * v + v  # closed form, two LSTM biases
    assert counts["Keras total"] == counts["PyTorch total"] - 4 * h
    assert counts["Keras total"] == lab.PORT_MODEL(v, d, h).keras_parameter_count()  # notebook 05's port agrees


def test_exercise_13_1_accepts_the_solution_and_hints_at_wrong_counts(monkeypatch):
    monkeypatch.setenv("COURSE_EXERCISES_STRICT", "0")
    assert X.check("13.1", lambda v, d, h: v * d + 4 * h * (d + h + 1) + h * v + v).correct
    two_biases = X.check("13.1", X.load("13.1").wrong())
    assert not two_biases.correct and "bias_hh" in two_biases.message
    no_dense_bias = X.check("13.1", lambda v, d, h: v * d + 4 * h * (d + h + 1) + h * v)
    assert not no_dense_bias.correct and "Dense" in no_dense_bias.message
    assert "whole number" in X.check("13.1", lambda v, d, h: 2.5).message
    assert "Define a function" in X.check("13.1", 42).message


# ----------------------------------------------------------------------------------------------
# The errata, and the notebook's own headings
# ----------------------------------------------------------------------------------------------
def test_errata_shown_in_full_no_cell_cut_short():
    page = lab.errata_view().to_html()
    for e in article.ERRATA:
        for text in (e.problem, e.correction, e.quote):
            assert html.escape(text) in page or text in page, text[:60]


def test_notebook_has_the_errata_heading_and_quotes_every_faq_question():
    text = _notebook_text(NOTEBOOK)
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}
    for e in article.ERRATA:
        if e.notebook == "13_review":
            assert e.heading in headings
    assert "§7.1 Books: the right titles" in headings
    for section in ("9.1", "9.2", "9.3", "9.4", "9.5", "7.1", "7.2", "7.3"):
        assert f'show_quote("{section}")' in text
        assert f'quiz.questions("{section}")' in text
    assert "show_source(lab.recorded)" in text and "lab.errata_view()" in text


def test_torch_reference_count_refuses_sizes_too_big_to_build():
    """Exercise 13.1's reference builds real PyTorch modules: sizes beyond its limit are refused at once
    (ArgumentError naming the limit), non-integers with an ArgumentTypeError naming the argument."""
    from course_lib.errors import ArgumentTypeError

    with pytest.raises(ArgumentError, match="limit"):
        lab.torch_reference_count(10**7, 4096, 4096)
    with pytest.raises(ArgumentTypeError, match="hidden_size"):
        lab.torch_reference_count(10, 4, 2.5)
    assert lab.torch_reference_count(7, 3, 5)["Keras total"] == 7 * 3 + 4 * 5 * (3 + 5 + 1) + 5 * 7 + 7
