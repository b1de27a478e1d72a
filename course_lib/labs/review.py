"""Notebook 13's lab: the course's recorded results quoted in the FAQ, the quiz panels, §7's tables and code side
by side, the errata in full, and the checked exercise.

Defined in: notebooks/13_review.ipynb

The review measures nothing new: every number it states comes from ``docs/results/`` (written by the other
notebooks' full runs) through :func:`recorded` and :func:`recorded_cell`, which accept only the keys listed in
:data:`RESULT_KEYS`, so one list says what the review quotes and ``tests/test_13_review.py`` can say which of
them are not recorded yet.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from torch import nn

from .. import article_program
from ..article import PROGRAM, errata_table
from ..checks import check_instance, check_int, check_text
from ..course import COURSE
from ..errors import ArgumentError, ArgumentTypeError
from ..quiz import QUESTIONS, Question, grade, prompt_text
from ..references import PAPERS
from ..results import format_entry, load_results
from ..source import Source, show_source
from ..widgets import HTML, Panel
from .exercises import Hint, exercise

#: Every recorded result notebook 13 quotes (scalars, and the tables whose cells it reads). One list: the
#: notebook reads results only through :func:`recorded` / :func:`recorded_cell`, which refuse other keys.
RESULT_KEYS: tuple[str, ...] = (
    "00.shakespeare_chars",
    "01.baseline_bits",
    "01.baseline_order",
    "01.mlp_val_bits",
    "01.orders",
    "03.best_model",
    "03.best_test_acc",
    "03.bow_test_acc",
    "03.bootstrap_low",
    "03.bootstrap_high",
    "05.models",
    "05.greedy_loop_lstm",
    "08.best_bleu",
    "08.best_model",
    "08.attention_gain_long",
    "09.memnet3_task2_median",
    "10.sasrec_hr",
    "10.best_baseline",
    "10.best_baseline_hr",
    "11.gpt_val_loss",
    "11.unigram_loss",
    "11.goal_small_labels_met",
    "11.finetuned_all_labels",
    "11.best_all_labels_method",
    "11.best_all_labels_acc",
    "12.scaling_alpha",
    "12.scaling_alpha_low",
    "12.scaling_alpha_high",
    "12.scaling_pred_100x",
    "12.scaling_pred_100x_floor",
    "12.compute_best_size",
    "12.ddp_equal",
    "12.exposure_100_plain",
    "12.exposure_100_dp8",
    "12.dp_loss_cost_eps8",
    "12.dp_time_ratio",
    "12.quant_size_ratio",
    "12.quant_loss_change",
    "12.kv_cache_speedup_fp32",
    "12.head_top_loss_rise",
)

#: The table cells the review reads: (table key, {column: value} picking the row, column).
RESULT_CELLS: tuple[tuple[str, tuple[tuple[str, object], ...], str], ...] = (
    ("01.orders", (("n", 0),), "val bits/char"),
    ("01.orders", (("n", 1),), "val bits/char"),
    ("01.orders", (("n", 2),), "val bits/char"),
    ("05.models", (("model", "LSTM shipped"),), "val bits/char"),
    ("05.models", (("model", "GPT shipped"),), "val bits/char"),
)

#: The faithful PyTorch port of §5.2's Keras model and of the loss it compiles with (course_lib.article_program).
PORT_MODEL = article_program.build_article_model
PORT_LOSS = article_program.categorical_crossentropy


# ----------------------------------------------------------------------------------------------
# Recorded results
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    """One recorded figure as the review quotes it; ``f"{r}"`` writes it as the README does.

    A figure not recorded yet (its notebook has not been run in full mode) is written as
    "not recorded yet (notebook NN)" instead of a number.

    Defined in: notebooks/13_review.ipynb
    """

    key: str
    value: object = None
    fmt: str = ""
    missing: bool = False
    note: str = field(default="", compare=False)

    def __format__(self, spec: str) -> str:
        if self.missing:
            return f"*not recorded yet (notebook {self.key[:2]})*"
        if isinstance(self.value, bool):
            return "yes" if self.value else "no"
        if spec:
            return format(self.value, spec)
        return format_entry({"value": self.value, "fmt": self.fmt})

    def __str__(self) -> str:
        return format(self, "")

    def vs(self, other: Recorded, lower: str = "below", higher: str = "above", same: str = "equal to") -> str:
        """A word comparing two recorded numbers ("below" / "above" / "equal to"), or "" if either is missing."""
        if self.missing or other.missing:
            return ""
        return lower if self.value < other.value else higher if self.value > other.value else same


def _results(results: dict | None) -> dict:
    """``results`` as given (a dict, as :func:`~course_lib.results.load_results` returns), or the recorded ones."""
    return load_results() if results is None else check_instance(results, "results", dict)


def _check_listed(key: str) -> None:
    check_text(key, "key")
    if key not in RESULT_KEYS:
        raise ArgumentError(f"{key!r} is not in course_lib.labs.review.RESULT_KEYS; add it there to quote it")


def recorded(key: str, results: dict | None = None) -> Recorded:
    """The recorded scalar ``key`` (one of :data:`RESULT_KEYS`), read from ``docs/results/``.

    Defined in: notebooks/13_review.ipynb
    """
    _check_listed(key)
    results = _results(results)
    if key not in results:
        return Recorded(key, missing=True)
    entry = results[key]
    if "columns" in entry:
        raise ArgumentError(f"{key} is a table: read one of its cells with recorded_cell")
    return Recorded(key, entry["value"], entry.get("fmt", ""))


def recorded_cell(key: str, row: dict, column: str, results: dict | None = None) -> Recorded:
    """One cell of the recorded table ``key``: the row whose columns equal ``row``, the column ``column``.

    Defined in: notebooks/13_review.ipynb
    """
    _check_listed(key)
    check_instance(row, "row", dict)
    check_text(column, "column")
    results = _results(results)
    entry = results.get(key)
    if entry is None or "columns" not in entry:
        return Recorded(key, missing=True)
    cols = entry["columns"]
    if column not in cols or any(c not in cols for c in row):
        return Recorded(key, missing=True, note=f"no column {column!r}")
    hits = [r for r in entry["rows"] if all(r[cols.index(c)] == v for c, v in row.items())]
    if len(hits) != 1:
        return Recorded(key, missing=True, note=f"{len(hits)} rows match {row}")
    fmt = entry.get("formats", {}).get(column, ".3f")
    return Recorded(key, hits[0][cols.index(column)], fmt)


def missing_results(results: dict | None = None) -> list[str]:
    """The keys of :data:`RESULT_KEYS` (and cells of :data:`RESULT_CELLS`) that ``docs/results/`` lacks.

    Defined in: notebooks/13_review.ipynb
    """
    results = _results(results)
    missing = [k for k in RESULT_KEYS if k not in results]
    for key, row, column in RESULT_CELLS:
        if key in results and recorded_cell(key, dict(row), column, results).missing:
            missing.append(f"{key}[{dict(row)}, {column!r}]")
    return missing


def _interval_text(low: Recorded, high: Recorded) -> str:
    """What a recorded 95% interval of a difference says: whether it includes 0 ("" while not recorded).

    Defined in: notebooks/13_review.ipynb
    """
    if low.missing or high.missing:
        return ""
    if low.value <= 0 <= high.value:
        return "includes 0: the test set cannot tell the two apart"
    return "lies above 0: a real difference" if low.value > 0 else "lies below 0: a real difference"


def quoted_table(results: dict | None = None) -> pd.DataFrame:
    """Every figure the review quotes: key, notebook, value as the README writes it (or "not recorded yet").

    Defined in: notebooks/13_review.ipynb
    """
    results = _results(results)
    rows = []
    for key in RESULT_KEYS:
        entry = results.get(key)
        if entry is None:
            shown = "not recorded yet"
        elif "columns" in entry:
            shown = f"table, {len(entry['rows'])} rows"
        else:
            shown = format_entry(entry)
        rows.append({"key": key, "notebook": _stem(key[:2]), "value": shown})
    return pd.DataFrame(rows)


def _stem(number: str) -> str:
    check_text(number, "number")
    for nb in COURSE:
        if nb.stem[:2] == number:
            return nb.stem
    raise ArgumentError(f"no notebook {number!r} in the course map")


def nb_link(number: str, text: str | None = None) -> str:
    """A Markdown link to notebook ``number`` (``"12"``), or its name marked "(planned)" while it does not exist.

    Defined in: notebooks/13_review.ipynb
    """
    stem = _stem(number)
    if text is not None:
        check_text(text, "text")
    label = text or f"notebook {number}"
    exists = any(nb.stem == stem and nb.exists for nb in COURSE)
    if exists:
        return f"[{label}]({stem}.ipynb)"
    return f"{label} (planned)" if stem in label else f"{label} (`{stem}`, planned)"


# ----------------------------------------------------------------------------------------------
# §9: the FAQ answers, written from the recorded results (an answer whose results are absent is skipped)
# ----------------------------------------------------------------------------------------------
def _check_needed(needed) -> None:
    check_instance(needed, "needed", (list, tuple))
    for r in needed:
        check_instance(r, "needed's items", Recorded)


def skipped(topic: str, needed: list[Recorded]) -> str:
    """The line that stands in for an answer whose recorded results are absent: which notebook produces them.

    Names each notebook, its results file and the missing keys; states no number.

    Defined in: notebooks/13_review.ipynb
    """
    check_text(topic, "topic")
    _check_needed(needed)
    by_notebook: dict[str, list[str]] = {}
    for r in needed:
        if r.missing and r.key not in by_notebook.setdefault(r.key[:2], []):
            by_notebook[r.key[:2]].append(r.key)
    if not by_notebook:
        raise ArgumentError(f"nothing is missing for {topic!r}: write the answer instead")
    why = "; ".join(
        f"{nb_link(nn)} has not recorded {', '.join(f'`{k}`' for k in keys)} (its full run with `COURSE_RECORD=1` "
        f"writes `docs/results/{nn}.json`)"
        for nn, keys in sorted(by_notebook.items())
    )
    return f"* **{topic}** — *answer skipped: {why}.*"


def bullet(topic: str, needed: list[Recorded], write) -> str:
    """``write()`` (a Markdown bullet quoting ``needed``) when every figure it needs is recorded, else :func:`skipped`.

    ``write`` is called only when nothing is missing, so an answer never shows a placeholder for a number.

    Defined in: notebooks/13_review.ipynb
    """
    _check_needed(needed)
    if not callable(write):
        raise ArgumentTypeError(f"write must be a function returning the Markdown bullet, got {type(write).__name__}")
    return skipped(topic, needed) if any(r.missing for r in needed) else write()


def _faq_9_1(res: dict) -> str:
    chars = recorded("00.shakespeare_chars", res)
    kn, mlp = recorded("01.baseline_bits", res), recorded("01.mlp_val_bits", res)
    lstm = recorded_cell("05.models", {"model": "LSTM shipped"}, "val bits/char", res)
    gpt = recorded_cell("05.models", {"model": "GPT shipped"}, "val bits/char", res)
    text = "Tiny Shakespeare" + ("" if chars.missing else f", {chars} characters")
    return "\n".join([
        "**Right in outline, silent on the one idea.** A language model is a probability distribution over the next "
        "token given the tokens before it, p(x_t | x_<t), learned by minimising the cross-entropy of the real next "
        f"token on raw text. Generation samples from it again and again ({nb_link('05')}); 'understanding' tasks read "
        f"the vectors it computes on the way ({nb_link('03')}, {nb_link('11')}). The same objective runs from counting "
        "to GPT-3; 'large' is a matter of degree (§9.5), and 'deep learning' is one way to fit it, not what makes it a "
        f"language model. On the course's text ({text}; {nb_link('00')}):\n",
        bullet("counting against the first neural model", [kn, mlp], lambda: (
            f"* counting, smoothed: the Kneser–Ney n-gram of {nb_link('01')} predicts the validation text at **{kn}** "
            f"bits per character, and the first neural model there, an MLP, at {mlp}"
            + (f", {mlp.vs(kn, 'better than', 'worse than')} counting;" if mlp.vs(kn) != "equal to" else ";"))),
        bullet("the LSTM and the GPT", [lstm, gpt], lambda: (
            f"* the shipped LSTM and GPT of {nb_link('05')}: **{lstm}** and **{gpt}** bits per character.")),
        "\nEvery row of the plot below is the same task, next-character prediction, scored on the same validation "
        "text.",
    ])  # fmt: skip


def _faq_9_2(res: dict) -> str:
    R = lambda key: recorded(key, res)  # noqa: E731
    low, high = R("03.bootstrap_low"), R("03.bootstrap_high")
    mt = [R("08.best_model"), R("08.best_bleu"), R("08.attention_gain_long")]
    sa = [R("03.best_model"), R("03.best_test_acc"), R("03.bow_test_acc"), low, high]
    rec = [R("10.sasrec_hr"), R("10.best_baseline_hr"), R("10.best_baseline")]
    return "\n".join([
        "**Five real applications; the course builds each, with small models made for the task rather than one large "
        "model.** What it measured:\n",
        bullet("machine translation", mt, lambda: (
            f"* **machine translation** ({nb_link('08')}): the best model, the {mt[0]}, scores **{mt[1]}** BLEU on "
            f"held-out sentences; on the longest ones, attention {'adds' if mt[2].value >= 0 else 'costs'} "
            f"{format(abs(mt[2].value), (mt[2].fmt or '.1f').replace('+', ''))} BLEU;")),
        bullet("text generation", [R("05.greedy_loop_lstm")], lambda: (
            f"* **text generation** ({nb_link('05')}): the GPT above; decoded greedily, the shipped LSTM "
            + (f"falls into a loop of period {R('05.greedy_loop_lstm')}, which is why the course samples;"
               if R("05.greedy_loop_lstm").value is not None
               else "did not fall into an exact loop in the text notebook 05 generated; the course samples anyway;"))),
        bullet("question answering", [R("09.memnet3_task2_median")], lambda: (
            f"* **question answering** ({nb_link('09')}): a 3-hop memory network answers "
            f"**{R('09.memnet3_task2_median')}%** of bAbI task 2's test questions (median of three seeds), by "
            "attending to the right sentences of the story;")),
        bullet("sentiment analysis", sa, lambda: (
            f"* **sentiment analysis** ({nb_link('03')}): the best classifier, {sa[0]}, reaches **{sa[1]}** test "
            f"accuracy, a bag of words {sa[2]}; the 95% interval of the difference, [{low}, {high}], "
            f"{_interval_text(low, high)};")),
        bullet("content recommendation", rec, lambda: (
            f"* **content recommendation** ({nb_link('10')}): SASRec, a Transformer over a user's history, reaches "
            f"HR@10 **{rec[0]}** against {rec[1]} for the best simple baseline ({rec[2]}).")),
        "\nThe pattern: each task is won by a model built for it, a strong simple baseline is often close on small "
        "data (notebooks 03 and 10 measure how close), and a large language model is one way to do each task, not "
        "the way (the §6 entries of the errata, section 6).",
    ])  # fmt: skip


def _faq_9_3(res: dict) -> str:
    R = lambda key: recorded(key, res)  # noqa: E731
    pre = [R("11.gpt_val_loss"), R("11.unigram_loss")]
    fine = [R("11.finetuned_all_labels"), R("11.best_all_labels_method"), R("11.best_all_labels_acc")]
    goal = [R("11.goal_small_labels_met")]
    return "\n".join([
        "**Right, and it contradicts the article's own §3**, which builds large language models on VAEs and GANs "
        f"({nb_link('06')}, section 0). Pretraining is next-token prediction (GPT) or masked-token prediction (BERT) "
        "on unlabelled text; fine-tuning continues training on a labelled task, all weights or a low-rank update "
        f"(LoRA). {nb_link('11')} does both at small scale:\n",
        bullet("pretraining", pre, lambda: (
            f"* pretrained on its own text, the GPT predicts held-out tokens at **{pre[0]}** nats per token, against "
            f"{pre[1]} for a model that knows only token frequencies;")),
        bullet("fine-tuning with all labels", fine, lambda: (
            f"* fine-tuned on notebook 03's sentiment task with all its labels, the pretrained network reaches "
            f"**{fine[0]}** test accuracy (best method with all labels: {fine[1]}, {fine[2]});")),
        bullet("fine-tuning with few labels", goal, lambda: (
            "* with at most 300 labels, did pretraining beat both training from scratch and a bag of words, outside "
            f"the bootstrap interval? **{goal[0]}**.")),
        "\nWhat §9.3 leaves out is what each stage costs and buys: pretraining takes nearly all the compute, and its "
        "benefit is largest when the task's labels are few, which is what notebook 11's label-efficiency table "
        "measures.",
    ])  # fmt: skip


def _faq_9_4(res: dict) -> str:
    R = lambda key: recorded(key, res)  # noqa: E731
    priv = [R("12.exposure_100_plain"), R("12.exposure_100_dp8"), R("12.dp_loss_cost_eps8"), R("12.dp_time_ratio")]
    comp = [R("12.quant_size_ratio"), R("12.quant_loss_change"), R("12.kv_cache_speedup_fp32"), R("12.ddp_equal")]
    interp = [R("12.head_top_loss_rise")]
    return "\n".join([
        f"**The three challenges are real; §9.4 names them and stops.** {nb_link('12')} measured each on a laptop:\n",
        bullet("data privacy", priv, lambda: (
            "* **data privacy**: a random secret inserted 100 times into the training text reached an exposure of "
            f"**{priv[0]}** bits (the model ranks it at or near the top of all candidates: memorised); trained with "
            f"DP-SGD at ε = 8, **{priv[1]}** bits, at a cost of {priv[2]} nats/char in validation loss and "
            f"{priv[3]}× the time per step;")),
        bullet("compute", comp, lambda: (
            f"* **compute**: int8 dynamic quantisation made the GPT **{comp[0]}×** smaller for {comp[1]} nats/char, "
            f"and the key/value cache of {nb_link('04')} sped generation up {comp[2]}×; one data-parallel step on two "
            f"processes gave the same weights as one step on the union batch: {comp[3]};")),
        bullet("interpretability", interp, lambda: (
            "* **interpretability**: zeroing the attention head the GPT needs most raised its validation loss by "
            f"{interp[0]} nats/char, while linear probes and integrated gradients give partial, checkable evidence "
            "of what the model computes.")),
        "\nThe article lists interpretability both as an achievement (§8.1) and as a challenge (§8.3); notebook 12 "
        "argues it is a challenge with useful tools.",
    ])  # fmt: skip


def _faq_9_5(res: dict) -> str:
    R = lambda key: recorded(key, res)  # noqa: E731
    fit = [R("12.scaling_alpha"), R("12.scaling_alpha_low"), R("12.scaling_alpha_high"), R("12.scaling_pred_100x"),
           R("12.scaling_pred_100x_floor"), R("12.compute_best_size")]  # fmt: skip
    return "\n".join([
        "**Three trends; the first one measured.**\n",
        bullet("bigger models", fit, lambda: (
            f"* **Bigger models**: the GPT sizes of {nb_link('12')} follow a power law, validation loss ∝ N^(−α) "
            f"with α = **{fit[0]}** (95% interval [{fit[1]}, {fit[2]}]). Extrapolated to 100 times the largest "
            f"model, two curves that fit the measured sizes predict {fit[3]} (pure power law) and {fit[4]} nats/char "
            "(with a floor): the extrapolation, not the fit, is the fragile part. And at a fixed compute budget the "
            f"best of the sizes compared was {fit[5]}: a bigger model pays only with more data (Hoffmann et al. "
            "2022).")),
        f"* **Finer task adaptation**: fine-tuning, and LoRA's low-rank updates, in {nb_link('11')}.",
        "* **Cross-domain applications**: notebook 12's section 7 says what medical, financial and multimodal models "
        "are made of; the course builds no toy that pretends to be one.",
    ])  # fmt: skip


#: §9's five answers: section → function of the results dict returning Markdown.
FAQ_ANSWERS = {"9.1": _faq_9_1, "9.2": _faq_9_2, "9.3": _faq_9_3, "9.4": _faq_9_4, "9.5": _faq_9_5}


def faq_answer(section: str, results: dict | None = None) -> str:
    """The course's answer to §9's question ``section`` ("9.1" … "9.5"), as Markdown, from the recorded results.

    Each statement that quotes a figure is one bullet; where a figure is not recorded (its notebook has not been
    run in full mode, or does not exist yet) the bullet is replaced by :func:`skipped`, which names the notebook
    and its results file, so no answer shows an invented or placeholder number.

    Defined in: notebooks/13_review.ipynb
    """
    check_text(section, "section")
    if section not in FAQ_ANSWERS:
        raise ArgumentError(f"§9 has the questions {', '.join(FAQ_ANSWERS)}; got {section!r}")
    return FAQ_ANSWERS[section](_results(results))


# ----------------------------------------------------------------------------------------------
# §9.1: the loss ladder
# ----------------------------------------------------------------------------------------------
def loss_ladder(results: dict | None = None) -> pd.DataFrame:
    """Bits per character on Tiny Shakespeare's validation text, from the simplest model of the course to the GPT.

    Rows whose notebook has not recorded them yet are left out (``missing_results`` names them).

    Defined in: notebooks/13_review.ipynb
    """
    results = _results(results)
    wanted = [
        ("uniform over the characters", "01", recorded_cell("01.orders", {"n": 0}, "val bits/char", results)),
        ("unigram (n = 1)", "01", recorded_cell("01.orders", {"n": 1}, "val bits/char", results)),
        ("bigram (n = 2)", "01", recorded_cell("01.orders", {"n": 2}, "val bits/char", results)),
    ]
    order = recorded("01.baseline_order", results)
    kn_name = "Kneser–Ney n-gram" if order.missing else f"Kneser–Ney (n = {order.value})"
    wanted += [
        (kn_name, "01", recorded("01.baseline_bits", results)),
        ("MLP language model", "01", recorded("01.mlp_val_bits", results)),
        ("LSTM (shipped)", "05", recorded_cell("05.models", {"model": "LSTM shipped"}, "val bits/char", results)),
        ("GPT (shipped)", "05", recorded_cell("05.models", {"model": "GPT shipped"}, "val bits/char", results)),
    ]
    return pd.DataFrame(
        [{"model": m, "notebook": nb, "bits/char": r.value} for m, nb, r in wanted if not r.missing],
        columns=["model", "notebook", "bits/char"],
    )


def plot_loss_ladder(ladder: pd.DataFrame):
    """Horizontal bars of :func:`loss_ladder`, coloured by notebook, each bar labelled with its value.

    Defined in: notebooks/13_review.ipynb
    """
    check_instance(ladder, "ladder", pd.DataFrame)
    lacking = [c for c in ("model", "notebook", "bits/char") if c not in ladder.columns]
    if lacking:
        raise ArgumentError(f"ladder must be a table from loss_ladder(); it lacks the columns {lacking}")
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(ladder), 2) + 1.2))
    if ladder.empty:
        ax.text(0.5, 0.5, "no results recorded yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    sns.barplot(data=ladder, y="model", x="bits/char", hue="notebook", dodge=False, ax=ax)
    for patch, value in zip(ax.patches, ladder["bits/char"]):
        ax.text(patch.get_width() + 0.05, patch.get_y() + patch.get_height() / 2, f"{value:.2f}", va="center")
    top = ladder["bits/char"].max() * 1.15
    ax.set(ylabel="", xlabel="validation bits per character (lower is better)", xlim=(0, top))
    ax.set_title("§9.1: what 'learning from text' bought, model by model")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------
# Quiz panels
# ----------------------------------------------------------------------------------------------
def verdict_html(q: Question, answer, results: dict | None = None) -> HTML:
    """Render logic of a quiz panel: the verdict on ``answer`` as coloured HTML with a link to the notebook.

    Raises :class:`~course_lib.errors.InputError` for an empty or unreadable answer (the panel shows it kindly).

    Defined in: notebooks/13_review.ipynb
    """
    check_instance(q, "q", Question)
    v = grade(q, answer, _results(results) if q.uses else results)
    colour, background, mark = ("#0a6b2c", "#e8f6ec", "✓") if v.correct else ("#8a5300", "#fff6e0", "✗")
    exists = any(nb.stem == v.notebook and nb.exists for nb in COURSE)
    link = (
        f' <a href="{_html.escape(v.notebook)}.ipynb" target="_blank">open {_html.escape(v.notebook)}</a>'
        if exists
        else ""
    )
    return HTML(
        f'<div style="color:{colour};background:{background};padding:6px;border-radius:4px">'
        f"<b>{mark}</b> {_html.escape(v.message)}{link}</div>"
    )


def quiz_panel(question: Question | str, results: dict | None = None) -> Panel:
    """A self-check panel for one question (a :class:`~course_lib.quiz.Question` or its id): radio buttons
    (multiple choice) or a number box, and the verdict.

    Defined in: notebooks/13_review.ipynb
    """
    if not isinstance(question, Question):
        check_text(question, "question")
    q = question if isinstance(question, Question) else next((x for x in QUESTIONS if x.id == question), None)
    if q is None:
        raise ArgumentError(f"no question {question!r}; the quiz has {', '.join(x.id for x in QUESTIONS)}")
    results = _results(results) if (results is not None or q.uses) else results
    if q.uses and any(k not in results for k in q.uses):
        title = f"Q{q.id} — needs notebook {q.notebook}'s recorded results"
    else:
        title = f"Q{q.id} — {prompt_text(q, results)}"
    if q.kind == "choice":
        control = w.RadioButtons(
            options=[c.text for c in q.choices], value=None, layout=w.Layout(width="auto"), description=""
        )
    else:
        control = w.Text(
            value="", placeholder="type a number, then Enter", continuous_update=False, description="answer"
        )

    def render(answer):
        if q.kind == "choice" and answer is None:
            return HTML('<div style="color:#555">Pick an answer to see whether it is right.</div>')
        return verdict_html(q, answer, results)

    return Panel({"answer": control}, render, title=title)


def quiz_overview() -> pd.DataFrame:
    """The whole quiz as a table: id, section, kind, notebook, number of options, recorded results it reads.

    Defined in: notebooks/13_review.ipynb
    """
    return pd.DataFrame(
        [
            {"question": q.id, "§": q.section, "kind": q.kind, "notebook": q.stem,
             "options": len(q.choices) or "—", "reads": ", ".join(q.uses) or "closed form"}
            for q in QUESTIONS
        ]
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# §7: code side by side, readable tables
# ----------------------------------------------------------------------------------------------
def program_sizes() -> dict[str, int | float]:
    """The §5.2 program's hyper-parameters, read from its text: top-level ``name = number`` lines, in order.

    Defined in: notebooks/13_review.ipynb
    """
    from ..article_program import HYPERPARAMETERS

    return dict(HYPERPARAMETERS)


def program_excerpt(first: str = "vocab_size =", last: str = "model.compile(") -> str:
    """The lines of the §5.2 program from the comment above the line starting with ``first`` to ``last``'s line.

    Defined in: notebooks/13_review.ipynb
    """
    check_text(first, "first")
    check_text(last, "last")
    lines = PROGRAM.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(first)]
    ends = [i for i, line in enumerate(lines) if line.startswith(last)]
    if not starts or not ends or ends[0] < starts[0]:
        raise ArgumentError(f"the §5.2 program has no block from {first!r} to {last!r}")
    i = starts[0] - 1 if starts[0] > 0 and lines[starts[0] - 1].startswith("#") else starts[0]
    return "\n".join(lines[i : ends[0] + 1])


class SideBySide:
    """Two code listings in two columns (stacked on a narrow screen); plain text outside a notebook.

    Defined in: notebooks/13_review.ipynb
    """

    def __init__(self, left: Source, right: list[Source], titles: tuple[str, str]):
        self.left, self.right, self.titles = left, right, titles

    def _repr_html_(self) -> str:
        col = "flex:1 1 420px;min-width:0;overflow:auto"
        right = "".join(s._repr_html_() for s in self.right)
        return (
            '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            f'<div style="{col}"><b>{_html.escape(self.titles[0])}</b>{self.left._repr_html_()}</div>'
            f'<div style="{col}"><b>{_html.escape(self.titles[1])}</b>{right}</div></div>'
        )

    def __repr__(self) -> str:
        right = "\n\n".join(repr(s) for s in self.right)
        return f"== {self.titles[0]}\n{self.left!r}\n\n== {self.titles[1]}\n{right}"


def keras_beside_pytorch(excerpt: str | None = None) -> SideBySide:
    """Part of §5.2's Keras program (default: :func:`program_excerpt`, the sizes, layers, model and compile line)
    beside the course's faithful PyTorch port of its model and loss.

    Defined in: notebooks/13_review.ipynb
    """
    excerpt = program_excerpt() if excerpt is None else excerpt
    left = Source(excerpt, "course_lib.article.PROGRAM (the article's §5.2, as printed)")
    return SideBySide(
        left,
        [show_source(PORT_MODEL), show_source(PORT_LOSS)],
        ("Keras (TensorFlow), as printed in §5.2", "PyTorch, the course's port (course_lib.article_program)"),
    )


def wide_table(df: pd.DataFrame):
    """A table shown in full: every cell's whole text, wrapped, left-aligned, no index.

    Defined in: notebooks/13_review.ipynb
    """
    check_instance(df, "df", pd.DataFrame)
    cell = {"text-align": "left", "white-space": "pre-wrap", "vertical-align": "top", "overflow-wrap": "anywhere",
            "max-width": "26em"}  # fmt: skip
    short = [c for c in df.columns if len(df) and df[c].astype(str).str.len().max() <= 10]  # e.g. "4.1.3.1"
    return (
        df.style.hide(axis="index")
        .set_properties(**cell)
        .set_properties(subset=short, **{"white-space": "nowrap", "overflow-wrap": "normal"})
        .set_table_styles(
            [
                {"selector": "", "props": [("width", "100%")]},
                {"selector": "th", "props": [("text-align", "left"), ("vertical-align", "bottom")]},
            ]
        )
    )


def errata_view():
    """The article's errata (``course_lib.article.errata_table``) in full, readable: no cell cut short.

    Defined in: notebooks/13_review.ipynb
    """
    return wide_table(errata_table())


def plot_papers_timeline():
    """The papers of :data:`course_lib.references.PAPERS`, oldest first, each with the notebooks that use it.

    Defined in: notebooks/13_review.ipynb
    """
    df = pd.DataFrame(
        [{"paper": f"{p.authors} ({p.year})", "year": p.year, "notebooks": ", ".join(p.notebooks),
          "recommended in §7.3": "yes" if p.article else "no"} for p in PAPERS]
    ).sort_values(["year", "paper"], kind="stable")  # fmt: skip
    fig, ax = plt.subplots(figsize=(8, 0.24 * len(df) + 1.2))
    sns.scatterplot(
        data=df, x="year", y="paper", hue="recommended in §7.3", style="recommended in §7.3",
        hue_order=["no", "yes"], style_order=["no", "yes"], s=60, ax=ax,
    )  # fmt: skip
    for _, r in df.iterrows():
        ax.annotate(f"→ {r.notebooks}", (r.year, r.paper), xytext=(6, 0), textcoords="offset points", va="center",
                    fontsize=8)  # fmt: skip
    ax.set(ylabel="", xlim=(df.year.min() - 1, df.year.max() + 4))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("The papers behind the course, oldest first")
    ax.set_xlabel("year of publication   (→ the notebooks that use it)")
    ax.legend(title="recommended in §7.3", loc="lower left", fontsize=8, title_fontsize=8)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------
# Exercise 13.1: count parameters as Keras does
# ----------------------------------------------------------------------------------------------
MAX_BUILT = 20_000_000  # parameters torch_reference_count builds at most (80 MB of float32 weights)


def torch_reference_count(vocab_size: int, embedding_dim: int, hidden_size: int) -> dict[str, int]:
    """Parameters of §5.2's model built from PyTorch modules: Embedding, LSTM, Linear; and the Keras count.

    PyTorch's ``nn.LSTM`` keeps two bias vectors (``bias_ih``, ``bias_hh``), Keras' ``LSTM`` one, so the Keras
    count is PyTorch's minus ``4 · hidden_size``.

    Defined in: notebooks/13_review.ipynb
    """
    vocab_size = check_int(vocab_size, "vocab_size", min=1)
    embedding_dim = check_int(embedding_dim, "embedding_dim", min=1)
    hidden_size = check_int(hidden_size, "hidden_size", min=1)
    rough = vocab_size * (embedding_dim + hidden_size) + 4 * hidden_size * (embedding_dim + hidden_size)
    if rough > MAX_BUILT:
        raise ArgumentError(
            f"these sizes make about {rough:,} parameters; the limit for building them is {MAX_BUILT:,}"
        )
    layers = {
        "Embedding": nn.Embedding(vocab_size, embedding_dim),
        "LSTM": nn.LSTM(embedding_dim, hidden_size, batch_first=True),
        "Dense": nn.Linear(hidden_size, vocab_size),
    }
    counts = {name: sum(p.numel() for p in layer.parameters()) for name, layer in layers.items()}
    counts["PyTorch total"] = sum(counts.values())
    counts["Keras total"] = counts["PyTorch total"] - layers["LSTM"].bias_hh_l0.numel()
    return counts


_CASES = ((10000, 100, 128), (65, 32, 64), (7, 3, 5), (1, 1, 1))


@exercise(
    "13.1",
    "a function keras_parameter_count(vocab_size, embedding_dim, hidden_size) → int",
    wrong=lambda: lambda v, d, h: v * d + 4 * h * (d + h + 2) + h * v + v,
)
def _check_keras_count(answer):
    if not callable(answer):
        raise Hint("Define a function keras_parameter_count(vocab_size, embedding_dim, hidden_size) returning an int.")
    for v, d, h in _CASES:
        want = torch_reference_count(v, d, h)["Keras total"]
        got = answer(v, d, h)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise Hint(f"Return a whole number (an int); for ({v}, {d}, {h}) you returned {got!r}.")
        diff = int(got) - want
        if diff == 0:
            continue
        if diff == 4 * h:
            raise Hint(
                f"For hidden_size={h} you count 4·hidden_size = {4 * h} too many: that is PyTorch's count. Keras' "
                "LSTM has one bias vector per gate, PyTorch's nn.LSTM two (bias_ih and bias_hh)."
            )
        if diff == -4 * h:
            raise Hint("The LSTM's four gates each have a bias vector of hidden_size numbers: count them once.")
        if diff == -v:
            raise Hint("The Dense layer has a bias too: one number per word of the vocabulary.")
        raise Hint(
            f"For vocab_size={v}, embedding_dim={d}, hidden_size={h} you return {int(got):,}, which is "
            f"{'too many' if diff > 0 else 'too few'}. Count the Embedding table, the LSTM's four gates (each with "
            "input weights, recurrent weights and one bias) and the Dense layer (weights and bias)."
        )
