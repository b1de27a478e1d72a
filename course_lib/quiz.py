"""Self-check questions for the end of the course: multiple choice and numeric, each pointing back to a notebook.

Defined in: notebooks/13_review.ipynb

Every :class:`Question` belongs to a section of the article (§9's five questions, §7's books, tools and papers)
and to the notebook that teaches the answer. A multiple-choice question has exactly one correct
:class:`Choice`, and every wrong choice says *why* it is wrong; a numeric question computes its answer, either
in closed form or from figures the course recorded (``uses``: keys of ``docs/results/``, read with
:func:`course_lib.results.load_results`), so the quiz never types a measured number.

:func:`grade` marks an answer and returns a :class:`Verdict` whose message names the notebook to go back to.
An empty or unreadable answer raises :class:`~course_lib.errors.InputError` with a friendly sentence (the quiz
panels of notebook 13 show it); numbers are parsed by :func:`parse_number`, never evaluated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from .checks import check_instance, check_text
from .course import COURSE
from .errors import ArgumentError, InputError
from .references import PAPERS
from .results import format_entry, load_results


@dataclass(frozen=True)
class Choice:
    """One option of a multiple-choice question; ``why`` is the feedback shown when it is picked.

    Defined in: notebooks/13_review.ipynb
    """

    text: str
    correct: bool = False
    why: str = ""


@dataclass(frozen=True)
class Question:
    """A self-check question.

    ``prompt`` and ``explanation`` may hold ``{0}``, ``{1}`` … (the recorded values of ``uses``, formatted as the
    README shows them) and ``explanation`` ``{answer}``. A numeric question has ``answer(*values) → float``
    and accepts answers within ``rel_tol`` (relative) of it; a multiple-choice question has ``choices``.

    Defined in: notebooks/13_review.ipynb
    """

    id: str
    section: str  # the article's section it checks ("9.1", "7.3")
    prompt: str
    notebook: str  # number of the notebook that teaches it ("05")
    where: str  # what to look at there
    explanation: str
    choices: tuple[Choice, ...] = ()
    answer: Callable[..., float] | None = None
    uses: tuple[str, ...] = ()
    rel_tol: float = 0.02
    fmt: str = ",.4g"
    hint: str = ""

    @property
    def kind(self) -> str:
        return "choice" if self.choices else "number"

    @property
    def stem(self) -> str:
        """The notebook's file stem, e.g. ``"05_text_generation"``."""
        for nb in COURSE:
            if nb.stem[:2] == self.notebook:
                return nb.stem
        raise ArgumentError(f"question {self.id}: no notebook {self.notebook!r} in the course map")


@dataclass(frozen=True)
class Verdict:
    """What :func:`grade` says: right or not, a message that names the notebook, and that notebook's stem.

    Defined in: notebooks/13_review.ipynb
    """

    correct: bool
    message: str
    notebook: str


def _paper(title: str) -> str:
    for p in PAPERS:
        if p.title == title:
            return f'{p.authors} ({p.year}), "{p.title}"'
    raise KeyError(title)


def _alpha_factor(alpha: float) -> float:
    return 0.9 ** (-1.0 / alpha)


C = Choice
QUESTIONS: tuple[Question, ...] = (
    Question(
        "9.1a",
        "9.1",
        "What does a language model such as the course's GPT compute at each position of a text?",
        "05",
        "generation as next-token prediction",
        "A language model is p(next token | tokens before); trained by minimising the cross-entropy of the true next "
        "token, it generates by sampling from that distribution again and again.",
        choices=(
            C("A probability for every token of the vocabulary: how likely each is to come next", correct=True),
            C(
                "One fixed-length vector that represents the whole text",
                why="That is §2.2's definition of a context representation, a sentence embedding (notebook 03); a "
                "language model keeps one vector per position and turns each into next-token probabilities.",
            ),
            C(
                "A latent code drawn from a VAE's prior, then decoded into text",
                why="That is the article's §3 claim, and it is not how large language models work (notebook 06, "
                "section 0): there is no latent code, only next-token prediction.",
            ),
            C(
                "The training sentence closest to the prompt",
                why="A language model generalises to contexts it has never seen; notebook 01 measures how often a "
                "context is new and how smoothing copes.",
            ),
        ),
    ),
    Question(
        "9.1b",
        "9.1",
        "Notebook 01's Kneser–Ney model scored {0} bits per character on the validation text. Its perplexity is 2 "
        "to the power of the bits per character. What is its perplexity?",
        "01",
        "bits per character and perplexity",
        "A perplexity of {answer} means the model is, on average, as unsure as a fair choice among that many "
        "characters.",
        answer=lambda bits: 2.0**bits,
        uses=("01.baseline_bits",),
        fmt=".2f",
        hint="Perplexity = 2^(bits per character); a calculator or Python's 2 ** bits will do.",
    ),
    Question(
        "9.2a",
        "9.2",
        "§9.2 lists five applications. Which one does the article's own §5.2 program address?",
        "05",
        "the article's program and its defects",
        "The §5.2 program is a next-token LSTM language model with a generation loop, nothing more (and §5.3 "
        "wrongly calls it a VAE).",
        choices=(
            C("Text generation", correct=True),
            C(
                "Machine translation",
                why="It reads no source sentence and has no encoder; notebook 08 builds translators.",
            ),
            C("Question answering", why="It reads no story and no question; notebook 09 builds readers."),
            C("Content recommendation", why="It sees token ids, not users and items; notebook 10 recommends."),
        ),
    ),
    Question(
        "9.2b",
        "9.2",
        "Notebook 03 compares its best neural sentiment classifier with a bag-of-words baseline. If the 95% "
        "bootstrap interval of their accuracy difference includes 0, what does that tell you?",
        "03",
        "the classifiers' test accuracies and the bootstrap interval",
        "An interval that includes 0 means the test set cannot tell the two apart: a strong simple baseline is part "
        "of every honest comparison.",
        choices=(
            C("The test set cannot tell the two apart: the difference may be noise", correct=True),
            C(
                "The neural model is better, since its accuracy is higher",
                why="A higher number on a few hundred test sentences can come from which sentences were drawn; the "
                "interval says how large that luck can be.",
            ),
            C(
                "The baseline is better",
                why="An interval that includes 0 does not favour either model; it says the data cannot decide.",
            ),
            C(
                "The two models make the same predictions",
                why="Equal accuracy does not mean equal predictions; the two can be right on different sentences.",
            ),
        ),
    ),
    Question(
        "9.3a",
        "9.3",
        "What is BERT's pretraining task?",
        "11",
        "GPT and BERT pretraining",
        "BERT hides some tokens (15%) and predicts them from both sides; GPT predicts each next token from the left. "
        "Both learn from unlabelled text, before any fine-tuning.",
        choices=(
            C("Predict hidden (masked) tokens from the words on both sides", correct=True),
            C(
                "Predict each next token from the tokens to its left",
                why="That is GPT's task; BERT's attention sees both sides, so it predicts masked tokens instead.",
            ),
            C(
                "Maximise an ELBO through an encoder and a decoder",
                why="That is a VAE (notebook 06); the article's §3 claim that language models are built on VAEs is "
                "one of its errors.",
            ),
            C(
                "Fool a discriminator that tells real text from generated text",
                why="That is a GAN (notebook 07); BERT has no generator and no discriminator.",
            ),
        ),
    ),
    Question(
        "9.3b",
        "9.3",
        "LoRA fine-tunes a pretrained model by…",
        "11",
        "LoRA against full fine-tuning",
        "LoRA freezes each chosen weight matrix W and trains a low-rank update, W + B·A, so only a small fraction "
        "of the parameters is trained and stored per task.",
        choices=(
            C("training a low-rank update B·A added to frozen weight matrices", correct=True),
            C(
                "retraining every weight on the task's labels",
                why="That is full fine-tuning, which notebook 11 compares LoRA with.",
            ),
            C(
                "training only a new classifier on top of frozen features",
                why="That is a linear probe; LoRA changes the network's own layers, through a small update.",
            ),
            C(
                "deleting the weights the task does not use",
                why="That is pruning; LoRA adds a trainable low-rank term and removes nothing.",
            ),
        ),
    ),
    Question(
        "9.4a",
        "9.4",
        "How does DP-SGD limit what a model can memorise about any one training example?",
        "12",
        "canaries, exposure and DP-SGD",
        "Clipping bounds each example's influence on a step and the noise hides it; the privacy accountant turns "
        "the noise and the number of steps into ε. Notebook 12 measures what that does to a canary's exposure, and "
        "what it costs in loss and time.",
        choices=(
            C("It clips each example's gradient and adds Gaussian noise to their sum", correct=True),
            C(
                "It deletes rare strings from the training text",
                why="Filtering promises nothing: notebook 12's canaries look like ordinary text, and no filter knows "
                "what is secret.",
            ),
            C(
                "It encrypts the training data",
                why="Encryption protects data at rest; the model still learns from the decrypted text.",
            ),
            C(
                "It trains for fewer steps",
                why="Fewer steps may memorise less, but guarantee nothing; DP-SGD's guarantee comes from clipping "
                "and noise.",
            ),
        ),
    ),
    Question(
        "9.4b",
        "9.4",
        "A canary's exposure is log₂(number of candidates) − log₂(its rank among them). A canary that the model "
        "ranks first among 2²⁰ random candidates has an exposure of how many bits?",
        "12",
        "exposure of canaries",
        "Rank 1 of 2²⁰ gives the largest exposure possible, {answer} bits: the model has memorised the secret. A "
        "canary it never saw has a rank anywhere from 1 to 2²⁰, so its exposure averages only log₂ e ≈ 1.44 bits.",
        answer=lambda: math.log2(2**20) - math.log2(1),
        fmt=".0f",
        rel_tol=0.0,
        hint="log₂(2²⁰) − log₂(1).",
    ),
    Question(
        "9.4c",
        "9.4",
        "Dynamic int8 quantisation stores a weight in 1 byte instead of float32's 4. If every parameter of a model "
        "were quantised, how many times smaller would it be?",
        "12",
        "int8 dynamic quantisation",
        "{answer}× at most: notebook 12 measures less, since its embeddings and LayerNorms stay in float32 and every "
        "quantised row carries a scale.",
        answer=lambda: 4 / 1,
        fmt=".0f",
        rel_tol=0.0,
        hint="Bytes per float32 number divided by bytes per int8 number.",
    ),
    Question(
        "9.5a",
        "9.5",
        "Notebook 12 fitted validation loss ∝ N^(−α), with α = {0} (N = non-embedding parameters). By how many times "
        "must N grow to lower the loss by 10%?",
        "12",
        "the scaling law and its interval",
        "About {answer}× for a 10% lower loss: 'bigger models' (§8.2) means orders of magnitude, and a small "
        "change in α changes the factor a lot.",
        answer=_alpha_factor,
        uses=("12.scaling_alpha",),
        rel_tol=0.05,
        fmt=",.1f",
        hint="Solve (N₂/N₁)^(−α) = 0.9 for N₂/N₁: the factor is 0.9^(−1/α).",
    ),
    Question(
        "9.5b",
        "9.5",
        "Why is it fragile to extrapolate the fitted scaling law to a model 100× larger than any trained?",
        "12",
        "what the fit predicts",
        "Curves that fit the measured sizes about equally well (a pure power law, one with a loss floor) part ways "
        "far from the data; and the data set, not the model, may become the limit first.",
        choices=(
            C("Curves that fit the measured sizes equally well disagree far outside them", correct=True),
            C(
                "A power law cannot be fitted to fewer than a thousand points",
                why="A few points fit a two-parameter law well; the problem is what happens outside the range.",
            ),
            C(
                "Bigger models always overfit, so the loss must rise",
                why="Not with enough data; notebook 12's larger models reached lower validation loss.",
            ),
            C(
                "It is not fragile: the fit's R² is close to 1",
                why="A high R² inside the range says nothing about far outside it; a curve with a floor fits as well.",
            ),
        ),
    ),
    Question(
        "7.1a",
        "7.1",
        "The article's first book has the English title 'Natural Language Processing with Deep Learning'. What is it?",
        "13",
        "§7.1 Books: the right titles",
        "It is Stanford's CS224N course; the Chinese title beside it means 'a survey of NLP' and names neither.",
        choices=(
            C("Stanford's CS224N course, not a book", correct=True),
            C(
                "The English title of Jurafsky & Martin's textbook",
                why="That textbook is 'Speech and Language Processing'.",
            ),
            C(
                "Goodfellow, Bengio & Courville's book",
                why="That is 'Deep Learning', the article's second recommendation.",
            ),
            C(
                "The English edition of the Chinese survey named beside it",
                why="The two titles name different things: the Chinese one means 'a survey of NLP'.",
            ),
        ),
    ),
    Question(
        "7.2a",
        "7.2",
        "How many parameters does PyTorch's nn.MultiheadAttention(embed_dim=128, num_heads=4) have (with its "
        "default biases)?",
        "04",
        "multi-head attention",
        "{answer}: four 128 × 128 projections (queries, keys, values, output) and their biases. The number of heads "
        "does not change it: the heads split the 128 dimensions between them.",
        answer=lambda: 4 * (128 * 128 + 128),
        fmt=",.0f",
        rel_tol=0.0,
        hint="Count the query, key, value and output projections: each is a 128 × 128 matrix plus a bias.",
    ),
    Question(
        "7.3a",
        "7.3",
        "Which paper introduced the Transformer that notebook 04 builds?",
        "04",
        "attention and the Transformer",
        "Vaswani et al. replaced recurrence with attention alone: scaled dot-product attention, many heads, and "
        "positions added to the tokens.",
        choices=(
            C(_paper("Attention Is All You Need"), correct=True),
            C(
                _paper("Neural Machine Translation by Jointly Learning to Align and Translate"),
                why="Bahdanau et al. added attention to a recurrent translator (notebook 08); the Transformer came "
                "two years later and dropped the recurrence.",
            ),
            C(
                _paper("BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"),
                why="BERT pretrains a Transformer encoder (notebook 11); it did not introduce the Transformer.",
            ),
            C(
                _paper("Distributed Representations of Words and Phrases and their Compositionality"),
                why="That is word2vec (notebook 02): word vectors, no attention.",
            ),
        ),
    ),
)
del C


def question(id: str) -> Question:
    """The question with this id (``"9.1a"``).

    Defined in: notebooks/13_review.ipynb
    """
    check_text(id, "id")
    for q in QUESTIONS:
        if q.id == id:
            return q
    raise ArgumentError(f"no question {id!r}; the quiz has {', '.join(q.id for q in QUESTIONS)}")


def questions(section: str) -> list[Question]:
    """The questions on one section of the article (``"9.1"``), in order.

    Defined in: notebooks/13_review.ipynb
    """
    check_text(section, "section")
    found = [q for q in QUESTIONS if q.section == section]
    if not found:
        raise ArgumentError(f"no questions on §{section}; sections: {sorted({q.section for q in QUESTIONS})}")
    return found


def result_keys() -> list[str]:
    """Every recorded result the quiz reads (the ``uses`` of all questions), sorted.

    Defined in: notebooks/13_review.ipynb
    """
    return sorted({k for q in QUESTIONS for k in q.uses})


def _entries(q: Question, results: dict | None) -> list[dict]:
    check_instance(q, "q", Question)
    results = load_results() if results is None else check_instance(results, "results", dict)
    missing = [k for k in q.uses if k not in results]
    if missing:
        raise ArgumentError(
            f"question {q.id} needs notebook {q.notebook}'s recorded results ({', '.join(missing)}), which "
            f"docs/results/ does not hold yet: run `python tools/measure_notebooks.py notebooks/{q.stem}.ipynb`"
        )
    return [results[k] for k in q.uses]


def prompt_text(q: Question, results: dict | None = None) -> str:
    """The question's prompt with its recorded values filled in.

    Defined in: notebooks/13_review.ipynb
    """
    entries = _entries(q, results)
    return q.prompt.format(*(format_entry(e) for e in entries))


def correct_answer(q: Question, results: dict | None = None):
    """The right answer: the correct choice's text, or the number computed from closed form or recorded values.

    Defined in: notebooks/13_review.ipynb
    """
    check_instance(q, "q", Question)
    if q.kind == "choice":
        return next(c.text for c in q.choices if c.correct)
    return float(q.answer(*(e["value"] for e in _entries(q, results))))


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text) -> float:
    """A number a learner typed: ``"66,048"``, ``"2.5e3"``, ``"12 ×"``, ``"−3"``. Never evaluates anything.

    Raises :class:`InputError` with a friendly message for empty or unreadable input.

    Defined in: notebooks/13_review.ipynb
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = "" if text is None else str(text).strip()
        if not s:
            raise InputError("Type a number in the box (for example 12.5, 66,048 or 2.4e6), then press Enter.")
        cleaned = re.sub(r"[\s,_]", "", s.replace("−", "-")).rstrip("×xX")
        if not _NUMBER.match(cleaned):
            shown = s if len(s) <= 40 else s[:40] + "…"
            raise InputError(
                f"{shown!r} is not a number I can read: type digits, e.g. 12.5, 66,048 or 2.4e6 (no formulas)."
            )
        value = float(cleaned)
    if not math.isfinite(value):
        raise InputError("Type a finite number.")
    return value


def _pointer(q: Question) -> str:
    nb = next(n for n in COURSE if n.stem == q.stem)
    status = "" if nb.exists else ", a notebook still being written"
    return f"notebook {q.stem}{status}: {q.where}."


def grade(q: Question, answer, results: dict | None = None) -> Verdict:
    """Mark ``answer`` (a choice's text or index, or a number / typed text) and say where to look.

    Raises :class:`InputError` for an empty or unreadable answer, :class:`ArgumentError` when the question's
    recorded results are missing.

    Defined in: notebooks/13_review.ipynb
    """
    values = [e["value"] for e in _entries(q, results)]
    shown = [format_entry(e) for e in _entries(q, results)]
    if q.kind == "choice":
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            raise InputError("Pick one of the answers above.")
        if isinstance(answer, int) and not isinstance(answer, bool):
            if not 0 <= answer < len(q.choices):
                raise InputError(f"Pick one of the {len(q.choices)} answers above.")
            choice = q.choices[answer]
        else:
            matches = [c for c in q.choices if c.text == answer]
            if not matches:
                raise InputError("Pick one of the answers above.")
            choice = matches[0]
        explanation = q.explanation.format(*shown)
        if choice.correct:
            return Verdict(True, f"Right. {explanation} More in {_pointer(q)}", q.stem)
        return Verdict(False, f"Not quite. {choice.why} Go back to {_pointer(q)}", q.stem)
    x = parse_number(answer)
    truth = float(q.answer(*values))
    if abs(x - truth) <= max(q.rel_tol * abs(truth), 1e-9 * max(1.0, abs(truth))):
        explanation = q.explanation.format(*shown, answer=format(truth, q.fmt))
        return Verdict(True, f"Right. {explanation} More in {_pointer(q)}", q.stem)
    direction = "too high" if x > truth else "too low"
    return Verdict(False, f"Not quite: {format(x, ',.6g')} is {direction}. {q.hint} Go back to {_pointer(q)}", q.stem)
