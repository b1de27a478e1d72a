"""One plotting theme and the plot helpers every notebook uses (seaborn on matplotlib).

Defined in: notebooks/00_start_here.ipynb
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .checks import check_flag, check_float, check_instance, check_text
from .errors import ArgumentError, ArgumentTypeError

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


def _check_ax(ax, figsize=None) -> None:
    if ax is not None and not isinstance(ax, plt.Axes):
        raise ArgumentTypeError(f"ax must be None or a matplotlib Axes, got {type(ax).__name__}")
    if figsize is not None:
        if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
            raise ArgumentTypeError(f"figsize must be a (width, height) pair in inches, got {figsize!r}")
        for v in figsize:
            check_float(v, "figsize", min=0.0, max=100.0, min_open=True)


def _check_plot_table(table, name: str, columns, ax, n_axes: int = 1) -> None:
    """``table`` must be a non-empty DataFrame with ``columns``; ``ax`` None or ``n_axes`` matplotlib Axes."""
    check_instance(table, name, pd.DataFrame)
    lacking = [c for c in columns if c not in table.columns]
    if lacking or table.empty:
        raise ArgumentError(f"{name} must be a non-empty table with the columns {list(columns)}; it lacks {lacking}")
    if n_axes == 1:
        _check_ax(ax)
    elif ax is not None:
        if not isinstance(ax, (list, tuple, np.ndarray)) or len(ax) != n_axes:
            raise ArgumentTypeError(f"ax must be {n_axes} matplotlib Axes, got {type(ax).__name__}")
        for a in ax:
            _check_ax(a)


def _check_labels(values, name: str, n: int) -> list[str]:
    """A list of ``n`` strings: the words along one side of an attention heatmap."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or len(values) != n:
        raise ArgumentError(
            f"{name} must be a list of {n} words (one per row or column of the weights), got {values!r:.60}"
        )
    for v in values:
        check_text(v, name)
    return list(values)


def _check_label(value, name: str) -> None:
    """None or a string: a title or an axis label."""
    if value is not None:
        check_text(value, name, max_len=1000)


def _is_list(value, n: int) -> bool:
    """A list-like of ``n`` labels (a list, tuple, Series, 1-D array or tensor)."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        return False
    if getattr(value, "ndim", 1) != 1:  # arrays and tensors: one label per entry
        return False
    return len(value) == n


def _as_matrix(value, name: str, ndim: int) -> np.ndarray:
    """A tensor, array or nested list of numbers as a float array with ``ndim`` dimensions."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise ArgumentTypeError(f"{name} must be a tensor or array of numbers, got {type(value).__name__}")
    raw = value.detach().cpu() if hasattr(value, "detach") else value
    try:
        m = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be a tensor or array of numbers, got {type(value).__name__}") from None
    if m.ndim != ndim:
        raise ArgumentError(f"{name} must be a {ndim}-D array or tensor, got shape {m.shape}")
    return m


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
    check_text(x, "x")
    if y is not None and not isinstance(y, str):
        if not isinstance(y, (list, tuple)) or not all(isinstance(c, str) for c in y):
            raise ArgumentTypeError(f"y must be a column name or a list of column names, got {y!r}")
    _check_ax(ax)
    _check_label(title, "title")
    _check_label(ylabel, "ylabel")
    logy = check_flag(logy, "logy")
    if baselines is not None:
        check_instance(baselines, "baselines", dict, "dict {label: value}")
        baselines = {str(k): check_float(v, "baselines", min=-1e300, max=1e300) for k, v in baselines.items()}
    runs = history if isinstance(history, dict) else {"": history}
    if not runs:
        raise ArgumentError("history must be a DataFrame or a non-empty dict {run name: DataFrame}")
    frames = []
    for run, h in runs.items():
        if not isinstance(h, pd.DataFrame):
            raise ArgumentTypeError(
                f"history {run!r} must be a DataFrame (as returned by train()), got {type(h).__name__}"
            )
        if x not in h:
            raise ArgumentError(f"history {run!r} has no x column {x!r}; it has {list(h.columns)}")
        cols = [y] if isinstance(y, str) else list(y) if y is not None else [c for c in h.columns if c.endswith("loss")]
        missing = [c for c in cols if c not in h]
        if missing:
            raise ArgumentError(f"history {run!r} has no column(s) {missing} (y); it has {list(h.columns)}")
        if not cols:
            raise ArgumentError(f"history {run!r} has no column ending in 'loss': name the columns to draw with y")
        long = h[[x] + cols].melt(id_vars=x, var_name="metric", value_name="value").dropna()
        run = str(run)
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
    m = _as_matrix(matrix, "matrix", 2)
    if 0 in m.shape:
        raise ArgumentError(f"matrix must have at least one row and one column, got shape {m.shape}")
    for labels, name, size in ((xticklabels, "xticklabels", m.shape[1]), (yticklabels, "yticklabels", m.shape[0])):
        if labels is None or isinstance(labels, (bool, np.bool_)) or (isinstance(labels, str) and labels == "auto"):
            continue
        if not _is_list(labels, size):
            raise ArgumentError(f"{name} must be a list of {size} labels (one per position), got {labels!r:.60}")
    _check_ax(ax, figsize)
    for label, name in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")):
        _check_label(label, name)
    if annot is None:
        annot = max(m.shape) <= 12
    annot = check_flag(annot, "annot")
    cbar = check_flag(cbar, "cbar")
    check_text(fmt, "fmt", max_len=20)
    try:
        format(0.5, fmt)
    except ValueError:
        raise ArgumentError(f"fmt must be a number format such as '.2f' or '.1%', got {fmt!r}") from None
    check_text(cmap, "cmap", max_len=100)
    if cmap not in plt.colormaps():
        raise ArgumentError(f"cmap {cmap!r:.60} is not a matplotlib colour map (e.g. 'rocket_r', 'vlag', 'viridis')")
    vmin = None if vmin is None else check_float(vmin, "vmin")
    vmax = None if vmax is None else check_float(vmax, "vmax")
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
    p = _as_matrix(points, "points", 2)
    if p.shape[1] != 2:
        raise ArgumentError(f"points must have shape (N, 2), got {p.shape}")
    if not _is_list(labels, len(p)):
        raise ArgumentError(f"labels must be a list of {len(p)} labels, one per point, got {labels!r:.60}")
    if hue is not None and not _is_list(hue, len(p)):
        raise ArgumentError(f"hue must be None or a list of {len(p)} group names, one per point, got {hue!r:.60}")
    _check_ax(ax, figsize)
    _check_label(title, "title")
    fontsize = check_float(fontsize, "fontsize", min=0.0, max=200.0, min_open=True)
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
    check_instance(table, "table", pd.DataFrame, "pandas DataFrame")
    for value, name in ((x, "x"), (y, "y"), (err, "err"), (hue, "hue")):
        if value is None and name in ("err", "hue"):
            continue
        check_text(value, name)
        if value not in table.columns:
            raise ArgumentError(f"{name}={value!r:.60} is not a column of table; it has {list(table.columns)}")
    numeric = pd.api.types.is_numeric_dtype
    if not numeric(table[y]) or (err is not None and not numeric(table[err])):
        raise ArgumentError(f"the y column {y!r} (and the err column) of table must hold numbers")
    _check_ax(ax)
    _check_label(title, "title")
    _check_label(ylabel, "ylabel")
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

    from matplotlib.figure import Figure

    check_instance(fig, "fig", Figure, "matplotlib Figure")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
