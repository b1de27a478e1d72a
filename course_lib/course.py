"""The course map: one list of the notebooks, the article sections each teaches, and what you build.

Defined in: notebooks/00_start_here.ipynb

It is the only copy: notebook 00 shows it, ``tools/sync_readme.py`` writes the README's course map
from it (with the measured times from ``docs/notebook_budget.csv``), and the facilitator kit and the
errata point at its notebooks.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from .config import NOTEBOOKS_DIR, ROOT
from .errors import ArgumentError

#: Measured run times, written by ``tools/measure_notebooks.py`` (one row per notebook and mode).
BUDGET_CSV = ROOT / "docs" / "notebook_budget.csv"
#: The limits every notebook is measured against (full mode's own limit is ``Notebook.budget_full_s``).
MEMORY_LIMIT_MB = 1536
FAST_LIMIT_S = 60
ONE_CPU_LIMIT_S = 360  # full mode on one CPU, as on Binder


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course: file stem, the article sections it teaches, what a learner builds.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/course.py
    """

    stem: str
    sections: str
    builds: str
    budget_full_s: int = 180  # full mode on 2 cores; 300 for notebooks that train several models

    @property
    def path(self):
        return NOTEBOOKS_DIR / f"{self.stem}.ipynb"

    @property
    def exists(self) -> bool:
        return self.path.exists()


COURSE: tuple[Notebook, ...] = (
    Notebook(
        "00_start_here", "—", "the tour: fast/full mode, widgets, progress bars, the environment check, the errata"
    ),
    Notebook(
        "01_background_ngram", "§1 背景介绍", "Kneser–Ney character n-grams (n = 0…8), the baseline; a first neural LM"
    ),
    Notebook(
        "02_word_embeddings", "§2.1 词汇嵌入, §4.1.1", "skip-gram with negative sampling, PPMI-SVD, compared with GloVe"
    ),
    Notebook(
        "03_context_representation",
        "§2.2 上下文表示, §4.1.2, §6.4 情感分析",
        "mean/max/attention pooling; a sentiment classifier",
    ),
    Notebook(
        "04_attention",
        "§2.3 注意力机制, §7.3",
        "attention, multi-head, the Transformer's parts, a GPT, the KV cache",
        budget_full_s=300,  # eleven models (four ablations, the GPT, two contexts, four position schemes)
    ),
    Notebook(
        "05_text_generation",
        "§2.4 文本生成, §5 项目实践, §6.2",
        "the article's program, its defects fixed; LSTM vs GPT; training dynamics; sampling",
        budget_full_s=300,
    ),
    Notebook(
        "06_vae",
        "§3.2.1, §4.1.3.1, §4.2.1, §4.3 (VAE)",
        "ELBO vs the article's losses; reparameterisation; a sentence VAE",
    ),
    Notebook(
        "07_gan",
        "§3.2.2, §4.1.3.2, §4.2.2, §3.3 (GAN)",
        "the article's GAN losses vs the correct ones; mode collapse",
        budget_full_s=300,  # about fifteen GANs (three objectives and a strong discriminator, three seeds each)
    ),
    Notebook(
        "08_translation",
        "§6.1 机器翻译",
        "GRU encoder–decoder with and without attention, a GPT translating by continuation; BLEU",
        budget_full_s=300,
    ),
    Notebook(
        "09_question_answering",
        "§6.3 问答系统",
        "LSTM reader, end-to-end memory network, Transformer reader on bAbI",
        budget_full_s=300,
    ),
    Notebook(
        "10_recommendation",
        "§6.5 内容推荐",
        "popularity, item-kNN, item2vec, BPR matrix factorisation, SASRec on MovieLens",
        budget_full_s=300,
    ),
    Notebook(
        "11_pretraining_finetuning",
        "§8.1 预训练模型, §8.2, §9.3, §7.3 BERT",
        "BPE, GPT and BERT pretraining, fine-tuning, linear probes and LoRA",
        budget_full_s=300,
    ),
    Notebook(
        "12_scale_privacy_interpretability",
        "§8 总结：未来发展趋势与挑战",
        "a scaling law, data-parallel training, quantisation, canaries and DP-SGD, probes",
        budget_full_s=300,
    ),
    Notebook(
        "13_review",
        "§7 工具和资源推荐, §9 附录：常见问题与解答",
        "the FAQ answered from measurements, quizzes, papers, the errata",
    ),
)


@dataclass(frozen=True)
class Session:
    """One slot of a workshop schedule: a notebook, the mode to run it in, and the minutes to teach it.

    Teaching minutes are for reading, explaining, discussing and the exercise; the notebook's measured
    run time (``docs/notebook_budget.csv``) is added to them when the schedule is written out.

    Defined in: notebooks/00_start_here.ipynb
    """

    notebook: str
    mode: str  # "full" or "fast"
    teach_min: int
    focus: str


#: Workshop schedules built from the course map; ``tools/sync_readme.py`` adds the measured run times and
#: writes them into docs/facilitators.md (and flags a schedule whose total overruns its slot).
SCHEDULES: dict[str, tuple[int, tuple[Session, ...]]] = {
    "90 minutes": (
        90,
        (
            Session("00", "fast", 10, "the first taste: sampling from the shipped GPT; how the notebooks work"),
            Session("01", "fast", 20, "counting characters: n-grams, perplexity, the baseline"),
            Session("04", "fast", 35, "attention from scratch, the Transformer block, the KV cache"),
            Session("05", "fast", 20, "the article's program debugged; sampling strategies (shipped checkpoints)"),
        ),
    ),
    "half a day (3½ hours with a break)": (
        210,
        (
            Session("00", "full", 15, "the tour and the errata"),
            Session("01", "full", 35, "n-grams and the baseline"),
            Session("02", "fast", 25, "word embeddings"),
            Session("04", "full", 50, "attention and the Transformer"),
            Session("05", "full", 50, "generation, the article's program, training dynamics"),
        ),
    ),
    "one day (6 hours)": (
        360,
        (
            Session("00", "full", 15, "the tour and the errata"),
            Session("01", "full", 35, "n-grams and the baseline"),
            Session("02", "full", 35, "word embeddings"),
            Session("03", "full", 35, "context and sentiment"),
            Session("04", "full", 50, "attention and the Transformer"),
            Session("05", "full", 50, "generation"),
            Session("06", "fast", 30, "VAEs: the article's losses against the ELBO"),
            Session("07", "fast", 30, "GANs: the article's losses against the correct ones"),
        ),
    ),
    "two days (2 × 6 hours)": (
        720,
        (
            Session("00", "full", 15, "the tour and the errata"),
            Session("01", "full", 35, "n-grams and the baseline"),
            Session("02", "full", 35, "word embeddings"),
            Session("03", "full", 35, "context and sentiment"),
            Session("04", "full", 50, "attention and the Transformer"),
            Session("05", "full", 50, "generation"),
            Session("06", "full", 35, "VAEs"),
            Session("07", "full", 35, "GANs"),
            Session("08", "full", 45, "translation: attention's first job"),
            Session("09", "full", 40, "question answering with memory"),
            Session("10", "full", 40, "recommendation as next-item prediction"),
            Session("11", "full", 50, "pretraining and fine-tuning"),
            Session("12", "full", 45, "scale, compute, privacy, interpretability"),
            Session("13", "fast", 30, "the review: the FAQ answered from measurements"),
        ),
    ),
}


def notebook(stem_or_number: str | int) -> Notebook:
    """The :class:`Notebook` with this stem (``"04_attention"``) or number (``4`` or ``"04"``).

    Defined in: notebooks/00_start_here.ipynb
    """
    key = f"{stem_or_number:02d}" if isinstance(stem_or_number, int) else str(stem_or_number)
    for nb in COURSE:
        if nb.stem == key or nb.stem.split("_", 1)[0] == key:
            return nb
    raise ArgumentError(f"no notebook {stem_or_number!r} in the course map; known: {[n.stem for n in COURSE]}")


def course_table():
    """The course map as a DataFrame (notebook, article sections, what you build, whether it exists yet).

    Defined in: notebooks/00_start_here.ipynb
    """
    import pandas as pd

    return pd.DataFrame(
        [
            {"notebook": nb.stem, "article sections": nb.sections, "what you build": nb.builds, "ready": nb.exists}
            for nb in COURSE
        ]
    )


def measured_times(stem_or_number: str | int) -> dict[str, dict]:
    """This notebook's measured rows of ``docs/notebook_budget.csv``, by mode (``"full"``, ``"fast"``, ``"full-1cpu"``).

    Each row holds ``wall_s``, ``peak_mb``, ``threads``, ``cpus``, ``date`` and ``load`` as written by
    ``tools/measure_notebooks.py``; a mode never measured is absent.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/course.py
    """
    nb = notebook(stem_or_number)
    if not BUDGET_CSV.exists():
        return {}
    with open(BUDGET_CSV, newline="", encoding="utf-8") as f:
        return {r["mode"]: r for r in csv.DictReader(f) if r["notebook"] == f"{nb.stem}.ipynb"}


def binder_advice(stem_or_number: str | int) -> str:
    """A line of Markdown for the top of a notebook: its measured run times, and what to do on one CPU.

    When full mode took longer than :data:`ONE_CPU_LIMIT_S` on one CPU (a Binder-sized machine), it says
    so and tells a Binder learner to switch to fast mode; the README's course map counts a notebook that
    shows this line as within the 1-CPU limit.

    Defined in: notebooks/00_start_here.ipynb
    """
    nb = notebook(stem_or_number)
    rows = measured_times(nb.stem)
    if not rows:
        return f"*`{nb.stem}` has not been measured yet (`python tools/measure_notebooks.py`).*"
    parts = []
    if "full" in rows:
        n = int(rows["full"]["threads"])
        parts.append(f"full mode {float(rows['full']['wall_s']) / 60:.1f} min on {n} thread{'s' if n > 1 else ''}")
    if "full-1cpu" in rows:
        parts.append(f"{float(rows['full-1cpu']['wall_s']) / 60:.1f} min on one CPU")
    if "fast" in rows:
        parts.append(f"fast mode {float(rows['fast']['wall_s']):.0f} s")
    line = "**Run time** (measured, `docs/notebook_budget.csv`): " + ", ".join(parts) + "."
    one = rows.get("full-1cpu")
    if one is not None and float(one["wall_s"]) > ONE_CPU_LIMIT_S:
        line += (
            f" **On Binder or any one-CPU machine, use fast mode**: full mode takes longer than "
            f"{ONE_CPU_LIMIT_S // 60} minutes there. Put `%env COURSE_FAST=1` in a cell at the top, restart the "
            "kernel and run all."
        )
    return line
