"""The bAbI question-answering tasks (Weston et al. 2015): parsing, vocabulary and tensors.

Defined in: notebooks/09_question_answering.ipynb

A bAbI file is a sequence of stories. Every line starts with its number inside the story; number 1
starts a new story. A statement line is ``N sentence.``; a question line is
``N question?<TAB>answer<TAB>supporting line numbers``::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? \tbathroom\t1

:func:`parse_babi` turns each question into a :class:`BabiQuestion` holding the statements of its
story so far, the answer and the *supporting facts* (the statements needed to answer, as indices
into the story). A malformed line raises :class:`~course_lib.errors.DataFileError` naming the file
and the line. :func:`vectorize` makes the tensors the readers of notebook 09 take.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .checks import check_choice, check_instance, check_int, check_text
from .data import WordTokenizer, load_text
from .errors import ArgumentError, ArgumentTypeError, DataFileError

TASKS = {
    1: "qa1_single-supporting-fact",
    2: "qa2_two-supporting-facts",
}
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class BabiQuestion:
    """One question with its story: the statements before it (in order), the question, the answer,
    the supporting facts (indices into ``story``) and the line of the file it came from.

    Defined in: notebooks/09_question_answering.ipynb
    """

    story: tuple[str, ...]
    question: str
    answer: str
    supporting: tuple[int, ...]
    line: int


def babi_words(sentence: str) -> list[str]:
    """Lower-case words of a bAbI sentence, punctuation dropped: ``"Where is Mary?"`` → ``["where", "is", "mary"]``.

    Defined in: notebooks/09_question_answering.ipynb
    """
    return _WORD.findall(check_text(sentence, "sentence").lower())


def parse_babi(text: str, name: str = "<text>") -> list[BabiQuestion]:
    """Parse the text of a bAbI file into :class:`BabiQuestion` s (see the module docstring).

    Raises :class:`~course_lib.errors.DataFileError` with the file ``name``, the line number and the
    line when a line is malformed: no number, numbers that do not count up within a story, a
    question without answer or supporting facts, or a supporting fact that is not an earlier
    statement of the story.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_text(text, "text")
    check_text(name, "name")
    questions: list[BabiQuestion] = []
    story: list[str] = []
    ids: dict[int, int] = {}  # story line number → index into ``story``
    expected = 1
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue

        def bad(why: str, n=n, line=line):
            return DataFileError(f"{name}, line {n}: {why}; got {line!r}")

        m = re.fullmatch(r"(\d+) (.+)", line)
        if not m:
            raise bad("expected '<number> <sentence>'")
        num, rest = int(m.group(1)), m.group(2)
        if num == 1:
            story, ids, expected = [], {}, 1
        if num != expected:
            raise bad(f"expected line number {expected} (or 1 to start a story)")
        expected += 1
        if "\t" not in rest:
            if not babi_words(rest):
                raise bad("a statement needs at least one word")
            ids[num] = len(story)
            story.append(rest.strip())
            continue
        parts = rest.split("\t")
        if len(parts) != 3 or not parts[0].strip().endswith("?") or not parts[1].strip():
            raise bad("a question line is '<number> <question>?<TAB><answer><TAB><supporting line numbers>'")
        question, answer, support = parts[0].strip(), parts[1].strip(), parts[2].split()
        if not support or not all(s.isdigit() for s in support):
            raise bad("the supporting facts must be one or more line numbers")
        missing = [int(s) for s in support if int(s) not in ids]
        if missing:
            raise bad(f"supporting fact(s) {missing} are not earlier statements of this story")
        questions.append(BabiQuestion(tuple(story), question, answer, tuple(ids[int(s)] for s in support), n))
    return questions


def load_babi(task: int, split: str) -> list[BabiQuestion]:
    """Task 1 or 2 (``en-10k``: 10,000 training and 1,000 test questions), checksum-verified and parsed.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_choice(task, "task", tuple(TASKS))
    check_choice(split, "split", ("train", "test"))
    path = f"babi_qa/{TASKS[task]}_{split}.txt"
    return parse_babi(load_text(path), name=f"data/{path}")


def _check_questions(questions, name: str) -> list[BabiQuestion]:
    if not isinstance(questions, (list, tuple)) or not all(isinstance(q, BabiQuestion) for q in questions):
        raise ArgumentTypeError(
            f"{name} must be a list of BabiQuestion (from load_babi), got {type(questions).__name__}"
        )
    return list(questions)


def build_vocabulary(questions: Sequence[BabiQuestion]) -> WordTokenizer:
    """Every word of the stories, questions and answers (sorted by frequency).

    Defined in: notebooks/09_question_answering.ipynb
    """
    questions = _check_questions(questions, "questions")
    texts = [s for q in questions for s in q.story] + [q.question for q in questions] + [q.answer for q in questions]
    words: dict[str, int] = {}
    for t in texts:
        for wd in babi_words(t):
            words[wd] = words.get(wd, 0) + 1
    return WordTokenizer(sorted(words, key=lambda wd: (-words[wd], wd)))


def encode_words(tok: WordTokenizer, sentence: str) -> list[int]:
    """Ids of a sentence's :func:`babi_words` (unknown words → ``<unk>``).

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_instance(tok, "tok", WordTokenizer)
    return [tok.stoi.get(wd, tok.unk_id) for wd in babi_words(sentence)]


def vectorize(
    questions: Sequence[BabiQuestion], tok: WordTokenizer, memory_size: int = 50, sentence_len: int = 8
) -> dict[str, torch.Tensor]:
    """Tensors for a batch of questions; memory slot 0 holds the **most recent** statement.

    * ``story`` (N, M, L): word ids of the last ``memory_size`` statements, slot i = the i-th most
      recent (so a slot's index is how long ago it was said: the memory network's temporal
      encoding), padded with 0;
    * ``mask`` (N, M): True on slots that hold a statement;
    * ``question`` (N, L), ``answer`` (N,) (an id of ``tok``);
    * ``support`` (N, M): True on the slots of the supporting facts (a fact older than the memory is
      dropped);
    * ``tokens`` (N, T) and ``lengths`` (N,): the whole story (its last ``memory_size`` statements)
      then the question as one word sequence, for the LSTM reader.

    Defined in: notebooks/09_question_answering.ipynb
    """
    M = check_int(memory_size, "memory_size", min=1, max=1000)
    L = check_int(sentence_len, "sentence_len", min=1, max=1000)
    questions = _check_questions(questions, "questions")
    check_instance(tok, "tok", WordTokenizer)
    if not questions:
        raise ArgumentError("vectorize needs at least one question")
    N = len(questions)
    # filled as NumPy arrays (one cheap row assignment per statement), then handed to torch without a copy;
    # a story's statements repeat across its questions, so each distinct statement is encoded once
    story = np.zeros((N, M, L), dtype=np.int64)
    mask = np.zeros((N, M), dtype=bool)
    support = np.zeros((N, M), dtype=bool)
    question = np.zeros((N, L), dtype=np.int64)
    answer = np.zeros(N, dtype=np.int64)
    encoded: dict[str, list[int]] = {}

    def encode(sentence: str) -> list[int]:
        if sentence not in encoded:
            encoded[sentence] = encode_words(tok, sentence)
        return encoded[sentence]

    flat: list[list[int]] = []
    for i, q in enumerate(questions):
        kept = q.story[-M:]
        first = len(q.story) - len(kept)  # story index of the oldest kept statement
        for slot, sentence in enumerate(reversed(kept)):
            ids = encode(sentence)
            if len(ids) > L:
                raise ArgumentError(f"a statement has {len(ids)} words, more than sentence_len={L}: {sentence!r}")
            story[i, slot, : len(ids)] = ids
        mask[i, : len(kept)] = True
        for s in q.supporting:
            if s >= first:
                support[i, len(q.story) - 1 - s] = True
        qids = encode(q.question)
        if len(qids) > L:
            raise ArgumentError(f"a question has {len(qids)} words, more than sentence_len={L}: {q.question!r}")
        question[i, : len(qids)] = qids
        if q.answer not in tok:
            raise ArgumentError(f"the answer {q.answer!r} is not in the vocabulary")
        answer[i] = tok.stoi[q.answer]
        flat.append([t for s in kept for t in encode(s)] + qids)
    lengths = np.array([len(f) for f in flat], dtype=np.int64)
    tokens = np.zeros((N, int(lengths.max())), dtype=np.int64)
    for i, f in enumerate(flat):
        tokens[i, : len(f)] = f
    story, mask, support, question, answer, tokens, lengths = (
        torch.from_numpy(a) for a in (story, mask, support, question, answer, tokens, lengths)
    )
    return {
        "story": story,
        "mask": mask,
        "question": question,
        "answer": answer,
        "support": support,
        "tokens": tokens,
        "lengths": lengths,
    }


PLACES = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")


def memorised_answers(train: Sequence[BabiQuestion], test: Sequence[BabiQuestion]) -> float:
    """Accuracy of answering by *memorised question–answer pairs*: each test question gets the answer
    most often paired with the same question text in training (ties: alphabetical), never reading the story.

    Defined in: notebooks/09_question_answering.ipynb
    """
    train, test = _check_questions(train, "train"), _check_questions(test, "test")
    table: dict[str, dict[str, int]] = {}
    for q in train:
        counts = table.setdefault(q.question, {})
        counts[q.answer] = counts.get(q.answer, 0) + 1
    if not test:
        raise ArgumentError("test must hold at least one question")
    hits = 0
    for q in test:
        counts = table.get(q.question)
        if counts:
            hits += min(counts, key=lambda a: (-counts[a], a)) == q.answer
    return hits / len(test)


def move_the_answer(q: BabiQuestion) -> BabiQuestion:
    """The same story with the answer's place changed in its supporting fact: the new correct answer is
    the next place of :data:`PLACES` (alphabetically, wrapping round).

    A reader that answers from the story must follow the edit; one that memorised question–answer
    pairs cannot. Raises ``ArgumentError`` when no supporting fact names the answer.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_instance(q, "q", BabiQuestion)
    if q.answer not in PLACES:
        raise ArgumentError(f"the answer {q.answer!r} is not a place")
    new = PLACES[(PLACES.index(q.answer) + 1) % len(PLACES)]
    story = list(q.story)
    for s in q.supporting:
        words = story[s].split(" ")
        stripped = [w.strip(".").lower() for w in words]
        if q.answer in stripped:
            i = stripped.index(q.answer)
            words[i] = words[i].replace(q.answer, new)
            story[s] = " ".join(words)
            return BabiQuestion(tuple(story), q.question, new, q.supporting, q.line)
    raise ArgumentError(f"no supporting fact of line {q.line} names the answer {q.answer!r}")
