"""What to read and what to run: the books, tools and papers behind the course, each mapped to its notebooks.

Defined in: notebooks/13_review.ipynb

The article's §7 recommends two books, two frameworks and two papers. This module is the course's own answer,
and the one place it is written down:

* :data:`BOOKS` — books (and one course) with their real titles and authors; the article's first "book"
  (its Chinese title and its English title name different things) is sorted out in notebook 13;
* :data:`TOOLS` — what the course runs instead of the article's TensorFlow, and why (versions are read from
  ``requirements.txt`` / ``requirements-dev.txt``, so the table never disagrees with the pins);
* :data:`PAPERS` — the two papers §7.3 names, and the papers the course actually implements or measures
  against, each with the notebooks that use it and one line on what for.

Notebook 13 renders them with :func:`books_table`, :func:`tools_table` and :func:`papers_table`;
``tests/test_13_review.py`` checks that every notebook named exists in the course map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .checks import check_flag
from .config import ROOT
from .course import COURSE


@dataclass(frozen=True)
class Book:
    """A book (or a course) to learn from: authors, title, publisher and year, what it is good for.

    Defined in: notebooks/13_review.ipynb
    """

    authors: str
    title: str
    published: str
    kind: str  # "book" or "course"
    why: str


@dataclass(frozen=True)
class Tool:
    """A package the course runs: its pip name, the notebooks that need it and why it is there.

    Defined in: notebooks/13_review.ipynb
    """

    package: str
    notebooks: tuple[str, ...]  # notebook numbers, or ("all",)
    why: str


@dataclass(frozen=True)
class Paper:
    """A paper: first author(s) and year, its title, where it appeared, the notebooks that use it, and for what.

    ``article`` is True for the two papers the article's §7.3 recommends.

    Defined in: notebooks/13_review.ipynb
    """

    authors: str
    year: int
    title: str
    venue: str
    notebooks: tuple[str, ...]  # notebook numbers, first = where it is implemented
    role: str
    article: bool = False
    cue: str = ""  # how the notebooks name it, when not by its first author's surname ("GloVe")

    @property
    def named_as(self) -> str:
        """The word a notebook that uses the paper mentions: ``cue``, or the first author's surname."""
        return self.cue or re.split(r"[ ,&]", self.authors)[0]


BOOKS: tuple[Book, ...] = (
    Book(
        "Daniel Jurafsky, James H. Martin",
        "Speech and Language Processing (3rd edition draft)",
        "free online draft (web.stanford.edu/~jurafsky/slp3); 2nd edition: Prentice Hall, 2009",
        "book",
        "The standard NLP textbook, from n-grams and smoothing (notebook 01) through embeddings, RNNs, Transformers "
        "and large language models; the draft is kept up to date.",
    ),
    Book(
        "Yoav Goldberg",
        "Neural Network Methods for Natural Language Processing",
        "Morgan & Claypool (Synthesis Lectures on Human Language Technologies), 2017",
        "book",
        "A compact, rigorous account of deep learning for NLP: embeddings, RNNs, encoder–decoders and attention.",
    ),
    Book(
        "Christopher Manning and the teaching staff (Stanford University)",
        "CS224N: Natural Language Processing with Deep Learning",
        "Stanford course; lectures, notes and assignments online",
        "course",
        "What the article's English title names: a university course, not a book. Excellent, but not a beginner's "
        "first read.",
    ),
    Book(
        "Ian Goodfellow, Yoshua Bengio, Aaron Courville",
        "Deep Learning",
        "MIT Press, 2016 (free online: deeplearningbook.org)",
        "book",
        "The article's second recommendation, correctly attributed: the theory of deep learning (optimisation, "
        "regularisation, autoencoders, VAEs and GANs in its Part III).",
    ),
    Book(
        "Aston Zhang, Zachary C. Lipton, Mu Li, Alexander J. Smola",
        "Dive into Deep Learning",
        "Cambridge University Press, 2023 (free online: d2l.ai)",
        "book",
        "Every idea with runnable code (PyTorch among its frameworks), from linear models to attention and "
        "pretraining.",
    ),
    Book(
        "Sebastian Raschka",
        "Build a Large Language Model (From Scratch)",
        "Manning, 2024",
        "book",
        "A GPT built step by step in PyTorch, pretrained and fine-tuned: the path of notebooks 04, 05 and 11 at "
        "greater length.",
    ),
    Book(
        "Lewis Tunstall, Leandro von Werra, Thomas Wolf",
        "Natural Language Processing with Transformers",
        "O'Reilly, 2022 (revised edition)",
        "book",
        "The real book whose English title is closest to the article's: applied NLP with pretrained Transformers and "
        "the Hugging Face libraries.",
    ),
)

TOOLS: tuple[Tool, ...] = (
    Tool(
        "torch",
        ("all",),
        "One framework for every model, run eagerly so any tensor can be printed mid-computation; the CPU build "
        "installs anywhere. The article's Keras program is ported to it (05), so TensorFlow is never installed.",
    ),
    Tool("numpy", ("all",), "Arrays and closed-form checks; the article's own generate_text is NumPy code (05)."),
    Tool("pandas", ("all",), "Every results table and training history is a DataFrame."),
    Tool("seaborn", ("all",), "Plots (with matplotlib underneath), one theme for the whole course."),
    Tool("ipywidgets", ("all",), "The panels: change a value, see the model's answer."),
    Tool("tqdm", ("all",), "Progress bars in the one training loop."),
    Tool("tokenizers", ("11",), "Hugging Face's BPE in Rust: the reference the course's own BPE must match."),
    Tool("sacrebleu", ("08",), "The reference BLEU and chrF, so scores are comparable with published ones."),
    Tool("opacus", ("12",), "DP-SGD (per-example clipping and noise) with a privacy accountant."),
    Tool("captum", ("12",), "Integrated gradients, checked against the course's own implementation."),
    Tool("scipy", ("12",), "The scaling-law fit's interval and the skew-normal exposure estimate."),
    Tool(
        "peft",
        ("11",),
        "Hugging Face's LoRA, in the tests only: the course's LoRA must give the same outputs and parameter count.",
    ),
    Tool(
        "pytest",
        ("all",),
        "Tests of every module; with nbval, every notebook runs top to bottom in fast mode.",
    ),
    Tool("nbval", ("all",), "Runs the notebooks under pytest and compares the outputs that must not change."),
    Tool("ruff", ("all",), "Lint and format, for the library, the tests and the notebooks."),
)

PAPERS: tuple[Paper, ...] = (
    Paper(
        "Vaswani et al.",
        2017,
        "Attention Is All You Need",
        "NeurIPS 2017",
        ("04",),
        "The Transformer: scaled dot-product and multi-head attention, built from scratch and checked against PyTorch.",
        article=True,
    ),
    Paper(
        "Devlin et al.",
        2019,
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        "NAACL 2019",
        ("11",),
        "Masked-token pretraining: a small BERT pretrained on the course's text beside a GPT, then fine-tuned.",
        article=True,
    ),
    Paper(
        "Kneser & Ney",
        1995,
        "Improved Backing-off for M-gram Language Modeling",
        "ICASSP 1995",
        ("01", "05"),
        "Kneser–Ney smoothing: the character n-gram baseline every neural model is measured against.",
    ),
    Paper(
        "Chen & Goodman",
        1999,
        "An Empirical Study of Smoothing Techniques for Language Modeling",
        "Computer Speech & Language 13(4)",
        ("01",),
        "Why interpolated Kneser–Ney is the smoothing to beat; add-one smoothing compared.",
    ),
    Paper(
        "Bengio et al.",
        2003,
        "A Neural Probabilistic Language Model",
        "JMLR 3",
        ("01",),
        "The first neural language model: an MLP over the previous tokens' embeddings.",
    ),
    Paper(
        "Mikolov et al.",
        2013,
        "Distributed Representations of Words and Phrases and their Compositionality",
        "NeurIPS 2013",
        ("02",),
        "word2vec's skip-gram with negative sampling, trained from scratch.",
    ),
    Paper(
        "Levy & Goldberg",
        2014,
        "Neural Word Embedding as Implicit Matrix Factorization",
        "NeurIPS 2014",
        ("02",),
        "Skip-gram factorises a shifted PMI matrix: the PPMI-SVD embeddings compared with it.",
    ),
    Paper(
        "Pennington, Socher & Manning",
        2014,
        "GloVe: Global Vectors for Word Representation",
        "EMNLP 2014",
        ("02", "03"),
        "Pretrained word vectors: the reference for notebook 02 and the initialisation of notebook 03's classifiers.",
        cue="GloVe",
    ),
    Paper(
        "Hochreiter & Schmidhuber",
        1997,
        "Long Short-Term Memory",
        "Neural Computation 9(8)",
        ("05", "03"),
        "The LSTM: what the article's §5.2 program really builds, and notebook 03's BiLSTM encoder.",
        cue="LSTM",
    ),
    Paper(
        "Press & Wolf",
        2017,
        "Using the Output Embedding to Improve Language Models",
        "EACL 2017",
        ("04",),
        "Weight tying: the course's GPT uses its token embedding as its output layer.",
    ),
    Paper(
        "Radford et al.",
        2019,
        "Language Models are Unsupervised Multitask Learners",
        "OpenAI technical report",
        ("04", "05"),
        "GPT-2: the decoder-only, pre-LayerNorm Transformer the course's GPT follows.",
        cue="GPT-2",
    ),
    Paper(
        "Li et al.",
        2016,
        "A Diversity-Promoting Objective Function for Neural Conversation Models",
        "NAACL 2016",
        ("05",),
        "distinct-n, the repetition measure that shows greedy decoding looping.",
    ),
    Paper(
        "Holtzman et al.",
        2020,
        "The Curious Case of Neural Text Degeneration",
        "ICLR 2020",
        ("05",),
        "Nucleus (top-p) sampling, compared with greedy, temperature and top-k.",
    ),
    Paper(
        "Kingma & Ba",
        2015,
        "Adam: A Method for Stochastic Optimization",
        "ICLR 2015",
        ("05",),
        "The optimiser the article's program compiles with (the course uses its AdamW variant throughout).",
        cue="Adam",
    ),
    Paper(
        "Kingma & Welling",
        2014,
        "Auto-Encoding Variational Bayes",
        "ICLR 2014",
        ("06",),
        "The VAE: the ELBO and the reparameterisation trick, set against the article's §4 losses.",
    ),
    Paper(
        "Bowman et al.",
        2016,
        "Generating Sentences from a Continuous Space",
        "CoNLL 2016",
        ("06",),
        "The sentence VAE, with KL annealing and word dropout against posterior collapse.",
    ),
    Paper(
        "Goodfellow et al.",
        2014,
        "Generative Adversarial Nets",
        "NeurIPS 2014",
        ("07",),
        "The GAN's minimax and non-saturating losses, set against the article's, and mode collapse.",
    ),
    Paper(
        "Cho et al.",
        2014,
        "Learning Phrase Representations using RNN Encoder–Decoder for Statistical Machine Translation",
        "EMNLP 2014",
        ("08",),
        "The GRU encoder–decoder that squeezes a sentence into one vector.",
    ),
    Paper(
        "Bahdanau, Cho & Bengio",
        2015,
        "Neural Machine Translation by Jointly Learning to Align and Translate",
        "ICLR 2015",
        ("08",),
        "Attention's first job: the decoder looks back at every source word.",
    ),
    Paper(
        "Papineni et al.",
        2002,
        "BLEU: a Method for Automatic Evaluation of Machine Translation",
        "ACL 2002",
        ("08",),
        "The translation score the course reports.",
    ),
    Paper(
        "Post",
        2018,
        "A Call for Clarity in Reporting BLEU Scores",
        "WMT 2018",
        ("08",),
        "sacreBLEU: BLEU computed one standard way, so the numbers mean something.",
    ),
    Paper(
        "Brown et al.",
        2020,
        "Language Models are Few-Shot Learners",
        "NeurIPS 2020",
        ("01", "08"),
        "GPT-3: what it did and did not reach (the article's §1 and §6.1 claims checked).",
    ),
    Paper(
        "Weston et al.",
        2016,
        "Towards AI-Complete Question Answering: A Set of Prerequisite Toy Tasks",
        "ICLR 2016",
        ("09",),
        "The bAbI tasks the question-answering readers are trained and tested on.",
    ),
    Paper(
        "Sukhbaatar et al.",
        2015,
        "End-To-End Memory Networks",
        "NeurIPS 2015",
        ("09",),
        "MemN2N: attention over the story's sentences, several hops.",
    ),
    Paper(
        "Linden, Smith & York",
        2003,
        "Amazon.com Recommendations: Item-to-Item Collaborative Filtering",
        "IEEE Internet Computing 7(1)",
        ("10",),
        "How Amazon recommended: item-to-item similarity, not a language model (the §6.5 claim checked).",
    ),
    Paper(
        "Rendle et al.",
        2009,
        "BPR: Bayesian Personalized Ranking from Implicit Feedback",
        "UAI 2009",
        ("10",),
        "Matrix factorisation trained to rank: a strong baseline.",
    ),
    Paper(
        "Koren, Bell & Volinsky",
        2009,
        "Matrix Factorization Techniques for Recommender Systems",
        "IEEE Computer 42(8)",
        ("10",),
        "The Netflix Prize's matrix factorisation (the §6.5 claim checked).",
    ),
    Paper(
        "Barkan & Koenigstein",
        2016,
        "Item2Vec: Neural Item Embedding for Collaborative Filtering",
        "IEEE MLSP 2016",
        ("10",),
        "Skip-gram (notebook 02) applied to items instead of words.",
    ),
    Paper(
        "Kang & McAuley",
        2018,
        "Self-Attentive Sequential Recommendation",
        "ICDM 2018",
        ("10",),
        "SASRec: recommendation as next-item prediction with a Transformer.",
    ),
    Paper(
        "Sennrich, Haddow & Birch",
        2016,
        "Neural Machine Translation of Rare Words with Subword Units",
        "ACL 2016",
        ("11",),
        "Byte-pair encoding, written from scratch and checked against Hugging Face tokenizers.",
    ),
    Paper(
        "Hu et al.",
        2022,
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "ICLR 2022",
        ("11",),
        "Fine-tuning through a low-rank update of frozen weights, checked against peft.",
    ),
    Paper(
        "Kaplan et al.",
        2020,
        "Scaling Laws for Neural Language Models",
        "arXiv:2001.08361",
        ("12",),
        "Loss as a power law in model size: the scaling study in miniature.",
    ),
    Paper(
        "Hoffmann et al.",
        2022,
        "Training Compute-Optimal Large Language Models",
        "NeurIPS 2022",
        ("12",),
        "Chinchilla: at fixed compute, a smaller model on more tokens; the compute-matched comparison.",
    ),
    Paper(
        "Carlini et al.",
        2019,
        "The Secret Sharer: Evaluating and Testing Unintended Memorization in Neural Networks",
        "USENIX Security 2019",
        ("12",),
        "Canaries and exposure: how much a model memorised a secret in its training text.",
    ),
    Paper(
        "Abadi et al.",
        2016,
        "Deep Learning with Differential Privacy",
        "ACM CCS 2016",
        ("12",),
        "DP-SGD: per-example gradient clipping and Gaussian noise, and what it costs.",
    ),
    Paper(
        "Hewitt & Liang",
        2019,
        "Designing and Interpreting Probes with Control Tasks",
        "EMNLP 2019",
        ("12",),
        "Control tasks, so a linear probe's accuracy is not over-read.",
    ),
    Paper(
        "Sundararajan, Taly & Yan",
        2017,
        "Axiomatic Attribution for Deep Networks",
        "ICML 2017",
        ("12",),
        "Integrated gradients: which words pushed a sentiment decision.",
    ),
)


def _notebooks_cell(numbers: tuple[str, ...]) -> str:
    if numbers == ("all",):
        return "all"
    return ", ".join(number if any(nb.stem[:2] == number and nb.exists for nb in COURSE) else f"{number} (planned)"
                     for number in numbers)  # fmt: skip


def pinned_versions() -> dict[str, str]:
    """``{package: version}`` from the course's ``requirements.txt`` and ``requirements-dev.txt`` (``==`` pins).

    Defined in: notebooks/13_review.ipynb
    """
    pins: dict[str, str] = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        path = ROOT / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#;]+)", line)
            if m:
                pins[m.group(1).lower()] = m.group(2)
    return pins


def books_table():
    """:data:`BOOKS` as a DataFrame: authors, title, published, kind, why.

    Defined in: notebooks/13_review.ipynb
    """
    import pandas as pd

    return pd.DataFrame([{"authors": b.authors, "title": b.title, "published": b.published, "kind": b.kind,
                          "why read it": b.why} for b in BOOKS])  # fmt: skip


def tools_table():
    """:data:`TOOLS` as a DataFrame: package, pinned version, notebooks, why.

    Defined in: notebooks/13_review.ipynb
    """
    import pandas as pd

    pins = pinned_versions()
    return pd.DataFrame(
        [
            {"package": t.package, "version": pins.get(t.package, "—"), "notebooks": _notebooks_cell(t.notebooks),
             "why the course uses it": t.why}
            for t in TOOLS
        ]
    )  # fmt: skip


def papers_table(article_only: bool = False):
    """:data:`PAPERS` as a DataFrame (the article's two first, then by notebook and year).

    Columns: paper (authors, year), title, venue, notebooks (``"08 (planned)"`` while a notebook is not
    written yet), what the course does with it, and whether §7.3 recommends it.

    Defined in: notebooks/13_review.ipynb
    """
    import pandas as pd

    article_only = check_flag(article_only, "article_only")
    papers = [p for p in PAPERS if p.article or not article_only]
    papers = sorted(papers, key=lambda p: (not p.article, p.notebooks[0], p.year))
    return pd.DataFrame(
        [
            {
                "paper": f"{p.authors} ({p.year})",
                "title": p.title,
                "venue": p.venue,
                "notebooks": _notebooks_cell(p.notebooks),
                "what the course does with it": p.role,
                "§7.3": "✓" if p.article else "",
            }
            for p in papers
        ]
    )
