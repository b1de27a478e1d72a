"""One plotting theme and the plot helpers every notebook uses (seaborn on matplotlib).

Defined in: notebooks/00_start_here.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .checks import check_float

PALETTE = "colorblind"


def set_theme(font_scale: float = 1.0) -> None:
    """The course's single theme: seaborn whitegrid, colour-blind-safe palette, readable sizes.

    Defined in: notebooks/00_start_here.ipynb
    """
    font_scale = check_float(font_scale, "font_scale", min=0.0, min_open=True)
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        font_scale=font_scale,
        rc={
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 90,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
        },
    )


def _ax(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(
    history: pd.DataFrame | dict,
    y: Sequence[str] | str | None = None,
    x: str = "step",
    ax=None,
    title: str | None = None,
    logy: bool = False,
    ylabel: str = "loss",
    baselines: dict[str, float] | None = None,
):
    """Loss curves from :func:`course_lib.train.train` histories.

    ``history`` is one history DataFrame or a dict ``{run name: history}`` (drawn in one plot).
    ``y`` lists the columns to draw (default: every column that ends in ``loss``). ``baselines``
    draws horizontal reference lines, e.g. ``{"n-gram (n=5)": 2.1}``. Returns the axes.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    runs = history if isinstance(history, dict) else {"": history}
    frames = []
    for run, h in runs.items():
        if not isinstance(h, pd.DataFrame) or x not in h:
            raise ValueError(f"history {run!r} must be a DataFrame with a {x!r} column (as returned by train())")
        cols = [y] if isinstance(y, str) else list(y) if y is not None else [c for c in h.columns if c.endswith("loss")]
        missing = [c for c in cols if c not in h]
        if missing:
            raise ValueError(f"history {run!r} has no column(s) {missing}; it has {list(h.columns)}")
        long = h[[x] + cols].melt(id_vars=x, var_name="metric", value_name="value").dropna()
        long["curve"] = long["metric"] if not run else (run + ": " + long["metric"] if len(cols) > 1 else run)
        frames.append(long)
    data = pd.concat(frames, ignore_index=True)
    ax = _ax(ax)
    sns.lineplot(data=data, x=x, y="value", hue="curve", ax=ax, marker="o" if len(data) < 60 else None)
    for i, (name, value) in enumerate((baselines or {}).items()):
        ax.axhline(value, ls="--", lw=1.2, color=sns.color_palette(PALETTE)[(i + 5) % 10], label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(title=None, fontsize="small")
    return ax


def heatmap(
    matrix,
    xticklabels=None,
    yticklabels=None,
    ax=None,
    title: str | None = None,
    annot: bool | None = None,
    fmt: str = ".2f",
    cmap: str = "rocket_r",
    vmin=None,
    vmax=None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    figsize=None,
    cbar: bool = True,
):
    """A labelled heatmap (attention weights, confusion matrices, similarities). Returns the axes.

    ``annot`` defaults to True for matrices up to 12×12.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    m = np.asarray(matrix.detach().cpu() if hasattr(matrix, "detach") else matrix, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"heatmap expects a 2-D matrix, got shape {m.shape}")
    if annot is None:
        annot = max(m.shape) <= 12
    ax = _ax(ax, figsize)
    sns.heatmap(
        m,
        ax=ax,
        annot=annot,
        fmt=fmt,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        cbar=cbar,
        xticklabels=xticklabels if xticklabels is not None else "auto",
        yticklabels=yticklabels if yticklabels is not None else "auto",
        square=m.shape[0] == m.shape[1],
    )
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def labelled_scatter(
    points,
    labels: Sequence[str],
    hue: Sequence[str] | None = None,
    ax=None,
    title: str | None = None,
    fontsize: int = 9,
    figsize=(7, 5),
):
    """A 2-D scatter with a text label at each point (e.g. word vectors after PCA). Returns the axes.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/labs/embeddings.py
    """
    p = np.asarray(points.detach().cpu() if hasattr(points, "detach") else points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"labelled_scatter expects points of shape (N, 2), got {p.shape}")
    if len(labels) != len(p):
        raise ValueError(f"got {len(p)} points but {len(labels)} labels")
    ax = _ax(ax, figsize)
    frame = pd.DataFrame({"x": p[:, 0], "y": p[:, 1], "group": list(hue) if hue is not None else ["" for _ in labels]})
    sns.scatterplot(data=frame, x="x", y="y", hue="group" if hue is not None else None, ax=ax, s=40)
    for (x, y), text in zip(p, labels):
        ax.annotate(str(text), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=fontsize)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    if hue is not None:
        ax.legend(title=None, fontsize="small")
    return ax


def bar_with_errors(
    table: pd.DataFrame,
    x: str,
    y: str,
    err: str | None = None,
    hue: str | None = None,
    ax=None,
    title: str | None = None,
    ylabel: str | None = None,
):
    """A bar plot of a results table, with error bars from column ``err`` (e.g. a 95% CI half-width).

    With ``hue``, bars are grouped and coloured by that column, and each error bar sits on its own bar.

    Defined in: notebooks/03_context_representation.ipynb
    """
    ax = _ax(ax)
    sns.barplot(data=table, x=x, y=y, hue=hue, ax=ax, errorbar=None)
    if err is not None:  # seaborn draws one container per hue level, its bars in the order of the x categories
        x_order = list(table[x].unique())
        groups = [table] if hue is None else [table[table[hue] == level] for level in table[hue].unique()]
        for container, group in zip(ax.containers, groups):
            group = group.iloc[sorted(range(len(group)), key=lambda i: x_order.index(group[x].iloc[i]))]
            for bar, (_, row) in zip(container, group.iterrows()):
                ax.errorbar(
                    bar.get_x() + bar.get_width() / 2, bar.get_height(), yerr=row[err], color="black", capsize=3, lw=1
                )
    if title:
        ax.set_title(title)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=20)
    return ax


def figure_to_png(fig) -> bytes:
    """Render a matplotlib figure to PNG bytes (used by widget panels) and close it.

    Defined in: notebooks/00_start_here.ipynb
    Used by: course_lib/widgets.py
    """
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
