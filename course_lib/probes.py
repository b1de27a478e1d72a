"""Linear probes on a GPT's hidden states, with control tasks so their accuracy is not over-read.

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

A *probe* is a small classifier trained to read a property (is this letter a vowel? how far into its
word is it?) from a frozen model's hidden vector at each position (Alain & Bengio 2016; Belinkov 2022).
High probe accuracy says the information can be *decoded* from the vector by a linear map; it does not
say the model *uses* it. And a probe can score well by memorising: Hewitt & Liang (2019, "Designing and
Interpreting Probes with Control Tasks") pair every task with a **control task** — each input *type*
(here: each character) gets a random label, drawn from the task's label distribution, and keeps it
wherever it occurs. A control task can only be solved by remembering types, so

    selectivity = accuracy on the task − accuracy on its control task

measures what the representation says beyond "which character is this". A good probe is *selective*.

* :func:`gpt_hidden_states` — the residual stream after the embeddings and after each block;
* :func:`char_task_labels` — three properties of each character of a text;
* :func:`control_labels` — Hewitt & Liang's control task for any of them;
* :func:`fit_linear_probe` — multinomial logistic regression (L-BFGS, small L2), train/test accuracy.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .checks import check_float, check_int, check_seed, check_tensor, check_text
from .errors import ArgumentError, ArgumentTypeError
from .models.gpt import GPT
from .nn_utils import eval_mode

VOWELS = set("aeiouAEIOU")
TASKS = {
    "vowel": "is this letter a vowel? (letters only; 2 classes)",
    "word_position": "position of this letter in its word: 1st, 2nd, 3rd, 4th, 5th or later (letters only; 5 classes)",
    "speaker_name": "is this character part of a speaker's name, the 'ROMEO:' lines? (all characters; 2 classes)",
}


@torch.no_grad()
def gpt_hidden_states(model: GPT, idx: torch.Tensor) -> list[torch.Tensor]:
    """The residual stream of ``model`` on ``idx`` (B, T): a list of n_layer + 1 tensors (B, T, C).

    Entry 0 is the input to the first block (token + position embeddings), entry l the output of block l.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/labs/scale.py
    """
    if not isinstance(model, GPT):
        raise ArgumentError(f"model must be the course's GPT, got {type(model).__name__}")
    model._check_ids(idx)
    out = []
    with eval_mode(model):
        x = model._embed(idx, 0)  # (B, T, C)
        out.append(x)
        for block in model.blocks:
            x, _, _ = block(x, causal=True)  # (B, T, C)
            out.append(x)
    return out


def char_task_labels(text: str) -> dict[str, np.ndarray]:
    """For each character of ``text``, the label of every task in :data:`TASKS` (−1 where a task does not apply).

    * ``vowel``: 1 for a, e, i, o, u (either case), 0 for other letters;
    * ``word_position``: 0–4, the letter's position in its run of letters (4 = fifth or later);
    * ``speaker_name``: 1 for every character of a line that ends with ``:`` (the speaker lines of
      Tiny Shakespeare, such as ``First Citizen:``) before the colon, 0 elsewhere.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/labs/scale.py
    """
    text = check_text(text, "text")
    n = len(text)
    vowel = np.full(n, -1)
    word_pos = np.full(n, -1)
    speaker = np.zeros(n, dtype=int)
    run = 0
    for i, ch in enumerate(text):
        if ch.isalpha():
            vowel[i] = int(ch in VOWELS)
            word_pos[i] = min(run, 4)
            run += 1
        else:
            run = 0
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.endswith(":") and len(line) > 1:
            speaker[start : end - 1] = 1
        start = end + 1
    return {"vowel": vowel, "word_position": word_pos, "speaker_name": speaker}


def control_labels(types: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Hewitt & Liang's control task: each type gets one random label, drawn from the labels' distribution.

    ``types`` (N,) are the input types (character ids) and ``labels`` (N,) the task's labels (−1 = not
    applicable, kept as −1). Returns (N,) control labels, a function of the type alone.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    types = np.asarray(types.numpy() if isinstance(types, torch.Tensor) else types)
    labels = np.asarray(labels.numpy() if isinstance(labels, torch.Tensor) else labels)
    if types.dtype.kind not in "iu" or labels.dtype.kind not in "iu":
        raise ArgumentTypeError(f"types and labels must be integer arrays, got {types.dtype} and {labels.dtype}")
    if types.shape != labels.shape or types.ndim != 1:
        raise ArgumentError(f"types and labels must be 1-D and of equal length, got {types.shape} and {labels.shape}")
    rng = np.random.default_rng(check_seed(seed))
    valid = labels >= 0
    if not valid.any():
        raise ArgumentError("no position has a label (all are −1)")
    values, counts = np.unique(labels[valid], return_counts=True)
    mapping = {t: rng.choice(values, p=counts / counts.sum()) for t in np.unique(types[valid])}
    return np.where(valid, np.array([mapping.get(t, -1) for t in types]), -1)


def fit_linear_probe(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    weight_decay: float = 1e-3,
    max_iter: int = 200,
) -> dict:
    """Multinomial logistic regression from features to labels; returns train and test accuracy.

    Features are standardised with the training mean and standard deviation; the weights are fitted
    by L-BFGS on the cross-entropy plus ``weight_decay``·‖W‖². Deterministic (full batch, zero start).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    X_train = check_tensor(X_train, "X_train", dim=2, dtype="float")
    X_test = check_tensor(X_test, "X_test", dim=2, dtype="float")
    y_train = check_tensor(y_train, "y_train", dim=1, dtype="integer").long()
    y_test = check_tensor(y_test, "y_test", dim=1, dtype="integer").long()
    if len(X_train) != len(y_train) or len(X_test) != len(y_test) or X_train.shape[1] != X_test.shape[1]:
        raise ArgumentError("X_train/y_train and X_test/y_test must have matching lengths and X the same width")
    weight_decay = check_float(weight_decay, "weight_decay", min=0.0)
    max_iter = check_int(max_iter, "max_iter", min=1)
    k = int(max(y_train.max(), y_test.max())) + 1
    mu, sd = X_train.mean(0), X_train.std(0) + 1e-6
    A, B = (X_train - mu) / sd, (X_test - mu) / sd
    W = torch.zeros(A.shape[1], k, requires_grad=True)
    b = torch.zeros(k, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(A @ W + b, y_train) + weight_decay * (W**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        train_acc = float(((A @ W + b).argmax(1) == y_train).float().mean())
        test_acc = float(((B @ W + b).argmax(1) == y_test).float().mean())
    majority = float((y_test == torch.bincount(y_train, minlength=k).argmax()).float().mean())
    return {"train_acc": train_acc, "test_acc": test_acc, "majority": majority, "classes": k}
