"""Plots: words projected to 2-D with their labels, a word's nearest neighbours, and
training curves (loss and words/s).

    from w2v_ext.plot import plot_words, plot_neighbours, plot_training_curve
    plot_words(kv, ["dog", "cat", "milk"], "words.png")             # PCA (method="tsne": t-SNE)
    plot_neighbours(kv, ["france", "january"], "neighbours.png")    # each word and its 10 nearest
    plot_training_curve(records, "curve.png")                       # Word2Vec(block_callbacks=...)

matplotlib is optional (``pip install 'w2v_ext[plot]'``) and imported only when a plot
is drawn, with the non-interactive Agg canvas: nothing opens a window, and nothing
touches pyplot's global state. Every function returns the matplotlib ``Figure``
(``path=None`` only returns it, to adjust before saving) and accepts ``ax=`` to draw
into axes of your own (e.g. from ``plt.subplots()`` in a notebook). Without matplotlib they raise
:class:`OptionalDependencyError` saying what to install.

Projections (:func:`project`): 'pca' (numpy's SVD of the centred unit vectors, so
distances on the plot follow cosine similarity), 'tsne' (scikit-learn's t-SNE with
the cosine metric; needs scikit-learn) or 'none' (2-D vectors as they are, like the
tutorial's toy models).
"""
from __future__ import annotations

import os
from typing import Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from .atomic_file import atomic_write

__all__ = ["OptionalDependencyError", "project", "plot_words", "plot_neighbours", "plot_training_curve",
           "METHODS"]

METHODS = ("pca", "tsne", "none")
MAX_LABELS = 1000   # more labelled points than a plot can show legibly (and slow to draw)
_PLOT_HINT = "pip install 'w2v_ext[plot]' (or: pip install matplotlib)"


class OptionalDependencyError(ImportError):
    """An optional package (matplotlib, scikit-learn) is needed and not installed;
    the message says what to install."""


def _matplotlib():
    """(Figure class, Agg canvas class), importing matplotlib on first use."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise OptionalDependencyError(f"plotting needs matplotlib: {_PLOT_HINT}") from e
    return Figure, FigureCanvasAgg


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    Figure, Canvas = _matplotlib()
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    Canvas(fig)
    return fig, fig.add_subplot()


def _finish(fig, path):
    if path is not None:
        name = os.fspath(path)
        image_format = os.path.splitext(name)[1][1:].lower() or None   # as savefig infers it from a name
        with atomic_write(name) as f:
            fig.savefig(f, dpi=fig.dpi, format=image_format)
    return fig


# ---------------------------------------------------------------------------- projection

def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """2-D coordinates [n, 2] for vectors [n, d].

    'pca': the rows scaled to unit length, centred, and projected on their first two
    principal axes (numpy SVD; each axis's sign is fixed so that its largest loading is
    positive, so the plot does not flip from run to run). 'tsne': scikit-learn's
    t-SNE (cosine metric, perplexity min(30, (n - 1) / 3), PCA initialisation,
    random_state=seed). 'none': the vectors as they are (d must be 2).
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must be [n, d], got shape {x.shape}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():   # NaN would also stall the label placement
        raise ValueError(f"vectors must be finite; row {int(np.argmin(finite))} is not")
    n, d = x.shape
    if method == "none":
        if d != 2:
            raise ValueError(f"method='none' plots 2-D vectors as they are; these have {d} dimensions "
                             f"(use method='pca' or 'tsne')")
        return x.copy()
    if n == 0:
        return np.zeros((0, 2))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = x / np.where(norms > 0, norms, 1)
    if method == "tsne":
        return _tsne(unit, seed)
    centred = unit - unit.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(2, len(s))
    signs = np.sign(vt[np.arange(k), np.abs(vt[:k]).argmax(axis=1)])
    coords = np.zeros((n, 2))
    coords[:, :k] = u[:, :k] * s[:k] * np.where(signs == 0, 1, signs)
    return coords


def _tsne(unit: np.ndarray, seed: int) -> np.ndarray:
    try:
        from sklearn.manifold import TSNE
    except ImportError as e:
        raise OptionalDependencyError("method='tsne' needs scikit-learn: pip install scikit-learn "
                                      "(or use method='pca')") from e
    n = len(unit)
    if n < 3:
        raise ValueError(f"t-SNE needs at least 3 words, got {n} (use method='pca')")
    perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca",
                random_state=seed).fit_transform(unit)


# ---------------------------------------------------------------------------- word plots

def _check_label_count(count: int, hint: str) -> None:
    if count > MAX_LABELS:
        raise ValueError(f"{count} labels are more than a plot can show (at most {MAX_LABELS}); {hint}")


def _known(kv, words: Iterable[str]) -> List[str]:
    words = [words] if isinstance(words, str) else list(words)
    if not words:
        raise ValueError("no words to plot")
    for w in words:
        kv.index(w)   # UnknownWordError (a KeyError naming close words) for an unknown word
    return list(dict.fromkeys(words))   # duplicates once, first order kept


def _scatter_labelled(ax, coords: np.ndarray, labels: Sequence[str], colors=None, emphasize=()) -> None:
    """A point per row of coords [n, 2] and its label next to it (one Text artist per
    label, in order, in ``ax.texts``), labels moved apart where they would overlap."""
    colors = list(colors) if colors is not None else ["tab:blue"] * len(labels)
    ax.scatter(coords[:, 0], coords[:, 1], s=28, c=colors, edgecolors="white", linewidths=0.5, zorder=2)
    ax.margins(0.12)
    ax.grid(True, alpha=0.25, zorder=0)
    styles = [dict(fontsize=11, fontweight="bold") if label in emphasize else dict(fontsize=9) for label in labels]
    first = [i for i, label in enumerate(labels) if label in emphasize]
    placed = _place_labels(ax, coords, labels, styles, first)
    for (x, y), label, color, style, (dx, dy, _) in zip(coords, labels, colors, styles, placed):
        ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", color=color, zorder=3, **style)
    _draw_leaders(ax, coords, [leader for _, _, leader in placed], colors)


def _draw_leaders(ax, coords: np.ndarray, leaders: Sequence[Optional[tuple]], colors: Sequence) -> None:
    """A thin line from each point to its label's edge where the label was moved away
    (leaders[i]: that edge in points from the point, or None). One collection for all:
    an arrow per label would cost milliseconds each to draw."""
    from matplotlib.collections import LineCollection
    from matplotlib.transforms import Affine2D

    rows = [i for i, leader in enumerate(leaders) if leader is not None]
    if not rows:
        return
    ends = np.array([leaders[i] for i in rows])                          # [m, 2] points
    starts = ends * (3.0 / np.linalg.norm(ends, axis=1, keepdims=True))  # 3 points out: clear of the marker
    lines = LineCollection(np.stack([starts, ends], axis=1), colors=[colors[i] for i in rows], alpha=0.5,
                           linewidths=0.6, zorder=3, transform=Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans)
    lines.set_offsets(coords[rows])             # each segment drawn from its point
    lines.set_offset_transform(ax.transData)
    ax.add_collection(lines, autolim=False)


# Where a label may go, in points from its point: (x offset of the label's left edge, or
# None: its right edge 4 points left of the point; y offset of its baseline), nearest first.
_OFFSETS = [(dx, dy) for r in (1, 2, 3, 4) for dx, dy in
            ((4, 3 * r - 1), (4, -8 * r), (None, 3 * r - 1), (None, -8 * r), (4 + 6 * r, 9 * r),
             (4 + 6 * r, -14 * r), (None, 9 * r), (None, -14 * r))]


def _place_labels(ax, coords: np.ndarray, labels: Sequence[str], styles: Sequence[dict],
                  first: Sequence[int] = ()) -> List[tuple]:
    """Greedy label placement: each label (those in `first`, then the rest in order) takes
    the first position of _OFFSETS whose box overlaps no label placed before and no
    point, else the one overlapping least. Works in display units, so the figure is
    drawn first to fix the layout and the axes' limits. Returns (dx, dy, leader) per
    label: the offset in points, and where a leader line to the label ends (the middle of
    its edge facing the point, in points from the point), or None when the label is
    next to its point."""
    if len(labels) == 0:
        return []
    fig = ax.figure
    if not hasattr(fig.canvas, "get_renderer"):   # a canvas that cannot measure text: labels stay put
        return [(4.0, 3.0, None)] * len(labels)
    fig.canvas.draw()   # settle the layout and limits (constrained layout moves the axes)
    renderer = fig.canvas.get_renderer()
    scale = fig.dpi / 72.0
    points = ax.transData.transform(coords)                # [n, 2] pixels
    sizes = _label_sizes(ax, renderer, labels, styles)     # [n, 3] width, height, descent
    r = 3.0 * scale                                         # a marker's half-size, pixels
    grid = _BoxGrid(cell=max(float(np.median(sizes[:, 0])), float(sizes[:, 1].max()), 4 * r))
    for box in np.hstack([points - r, points + r]):
        grid.add(box)
    # [k, 2] candidate offsets in pixels: x of the label's left edge (None: right edge 4 points
    # left of the point; width is added per label), y of its baseline
    left = np.array([dx is None for dx, _ in _OFFSETS])
    shift = np.array([[-4.0 if dx is None else dx, dy] for dx, dy in _OFFSETS]) * scale
    offsets: List[tuple] = [(4.0, 3.0, None)] * len(labels)
    for i in list(dict.fromkeys(list(first) + list(range(len(labels))))):
        width, height, descent = sizes[i]
        x0 = points[i, 0] + shift[:, 0] - np.where(left, width, 0.0)
        y0 = points[i, 1] + shift[:, 1] + descent
        candidates = np.stack([x0, y0, x0 + width, y0 + height], axis=1)      # [k, 4]
        cost = _overlap_areas(candidates, grid.near(candidates.min(axis=0)[:2], candidates.max(axis=0)[2:]))
        free = np.flatnonzero(cost == 0)
        k = int(free[0]) if len(free) else int(np.argmin(cost))
        gap = np.hypot(max(x0[k] - points[i, 0], points[i, 0] - (x0[k] + width), 0.0),
                       max(y0[k] - points[i, 1], points[i, 1] - (y0[k] + height), 0.0))   # point to label box
        dx, dy = (_OFFSETS[k][0] if not left[k] else -4.0 - width / scale), _OFFSETS[k][1]
        leader = (dx if not left[k] else -4.0, dy + (descent + height / 2) / scale) if gap > 6 * scale else None
        offsets[i] = (float(dx), float(dy), leader)
        grid.add(candidates[k])
    return offsets


def _label_sizes(ax, renderer, labels: Sequence[str], styles: Sequence[dict]) -> np.ndarray:
    """[n, 3] each label's width, height and descent below its baseline, in pixels."""
    base = ax.transData.transform((0, 0))[1]
    sizes = np.empty((len(labels), 3))
    for i, (label, style) in enumerate(zip(labels, styles)):
        probe = ax.text(0, 0, label, **style)
        extent = probe.get_window_extent(renderer)
        sizes[i] = extent.width, extent.height, extent.y0 - base
        probe.remove()
    return sizes


def _overlap_areas(candidates: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """[k] total area each candidate box [k, 4] shares with boxes [m, 4] (x0, y0, x1, y1)."""
    if len(boxes) == 0:
        return np.zeros(len(candidates))
    c, b = candidates[:, None, :], boxes[None, :, :]
    w = np.clip(np.minimum(c[..., 2], b[..., 2]) - np.maximum(c[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(c[..., 3], b[..., 3]) - np.maximum(c[..., 1], b[..., 1]), 0, None)
    return (w * h).sum(axis=1)


class _BoxGrid:
    """Boxes (x0, y0, x1, y1) filed under the square cells they cover, so that finding
    the boxes near a region looks at a few cells instead of every box: placing n labels
    takes about n steps rather than n^2."""

    def __init__(self, cell: float):
        self.cell = cell
        self.boxes: List[np.ndarray] = []
        self.cells: dict = {}

    def _cells(self, low, high):
        """The (column, row) keys of the cells the region low..high (x, y) covers."""
        (c0, r0), (c1, r1) = (np.floor_divide(corner, self.cell).astype(int) for corner in (low, high))
        return ((c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1))

    def add(self, box: np.ndarray) -> None:
        for key in self._cells(box[:2], box[2:]):
            self.cells.setdefault(key, []).append(len(self.boxes))
        self.boxes.append(box)

    def near(self, low, high) -> np.ndarray:
        """[m, 4] the boxes filed in the cells that the region low..high (x, y) covers."""
        found = {i for key in self._cells(low, high) for i in self.cells.get(key, ())}
        return np.array([self.boxes[i] for i in sorted(found)]).reshape(-1, 4)


def _axis_names(ax, method: str) -> None:
    names = {"pca": ("PC 1", "PC 2"), "tsne": ("t-SNE 1", "t-SNE 2"), "none": ("dim 0", "dim 1")}[method]
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])


def plot_words(kv, words: Union[str, Sequence[str]], path=None, method: str = "pca", *, title: Optional[str] = None,
               ax=None, seed: int = 0):
    """Scatter plot of the words' vectors projected to 2-D, each point labelled with its word.

    Args:
        kv: KeyedVectors (or anything with ``index(word)`` and ``[words] -> [n, d]``).
        words: the words to plot (1 <= n <= MAX_LABELS; an unknown word raises
            UnknownWordError, a KeyError whose message names close vocabulary words).
        path: where to save (.png, .pdf, .svg, ... by extension); None: do not save.
        method: 'pca', 'tsne' or 'none' (see :func:`project`).
        title: the axes' title (default: what was plotted and how).
        ax: matplotlib Axes to draw into (default: a new 7 x 6 inch figure).
    Returns: the matplotlib Figure; its axes' ``texts`` are the labels, in ``words`` order.
    """
    words = _known(kv, words)
    _check_label_count(len(words), "plot fewer words")
    coords = project(kv[words], method, seed=seed)
    fig, ax = _new_axes(ax, (7, 6))
    if method == "none":   # raw vectors: the origin matters (cosine similarity is the angle seen from it)
        ax.axhline(0, color="0.6", linewidth=0.8, zorder=1)
        ax.axvline(0, color="0.6", linewidth=0.8, zorder=1)
    _scatter_labelled(ax, coords, words)
    _axis_names(ax, method)
    ax.set_title(title if title is not None else f"{len(words)} words ({method})")
    return _finish(fig, path)


def plot_neighbours(kv, word: Union[str, Sequence[str]], path=None, topn: int = 10, method: str = "pca", *,
                    title: Optional[str] = None, ax=None, seed: int = 0):
    """Each query word with its ``topn`` nearest neighbours (cosine), projected together
    to 2-D; a colour per query word, query words in bold.

    Args:
        kv: KeyedVectors.
        word: a word or a list of words (an unknown one raises UnknownWordError).
        path, method, title, ax, seed: as for :func:`plot_words`.
        topn: neighbours per query word (a word already plotted is not repeated; at
            most MAX_LABELS words in all, else ValueError).
    Returns: the matplotlib Figure; labels in ``texts`` order: the first query word,
    its neighbours (nearest first), the next query word, ...
    """
    queries = _known(kv, word)
    if int(topn) < 0:
        raise ValueError(f"topn must be >= 0, got {topn}")
    labels: List[str] = []
    group: List[int] = []
    for g, q in enumerate(queries):
        for w in [q] + [w for w, _ in kv.most_similar(q, topn=int(topn))]:
            if w not in labels:
                labels.append(w)
                group.append(g)
    _check_label_count(len(labels), "lower topn")
    coords = project(kv[labels], method, seed=seed)
    fig, ax = _new_axes(ax, (8, 7))
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
               "tab:olive", "tab:cyan", "tab:gray"]
    _scatter_labelled(ax, coords, labels, [palette[g % len(palette)] for g in group], emphasize=set(queries))
    _axis_names(ax, method)
    if title is None:
        title = f"nearest neighbours of {', '.join(queries)} ({method})"
    ax.set_title(title)
    return _finish(fig, path)


# ---------------------------------------------------------------------------- training curves

def _curve_points(history) -> dict:
    """x (epochs), loss and words/s from block records, epoch stats or a Word2Vec model."""
    if hasattr(history, "history") and not isinstance(history, Mapping):   # a Word2Vec model
        history = history.history
    records = list(history)
    if not records:
        raise ValueError("no training records to plot (train first, with block_callbacks to record blocks)")
    if all("position" in r for r in records):   # block records (Word2Vec block_callbacks)
        return {"x": [r["position"] for r in records], "loss": [r.get("loss") for r in records],
                "rate": [r.get("words_per_s") for r in records], "unit": "block"}
    if all("epoch" in r for r in records):      # epoch stats (Word2Vec.history)
        return {"x": [r["epoch"] for r in records], "loss": [r.get("loss") for r in records],
                "rate": [r["words"] / r["seconds"] if r.get("seconds") else None for r in records],
                "unit": "epoch"}
    raise ValueError("training records must be Word2Vec block records (with 'position') or epoch stats "
                     "(Word2Vec.history, with 'epoch')")


def plot_training_curve(history, path=None, *, title: Optional[str] = None, ax=None):
    """Loss and words/s against epochs trained.

    Args:
        history: block records collected with ``Word2Vec(block_callbacks=[lambda m, r:
            records.append(r)])`` (a point per ~8 MB block), or per-epoch stats
            (``model.history``, or the model itself).
        path: where to save; None: do not save.
        title: the figure's title.
        ax: matplotlib Axes for the loss (words/s goes on a twin axis); default: new figure.
    Returns: the matplotlib Figure (loss on the left axis, words/s on the right).
    """
    points = _curve_points(history)
    fig, ax = _new_axes(ax, (8, 4.5))
    x = np.asarray(points["x"], dtype=float)
    loss = np.array([np.nan if v is None else v for v in points["loss"]], dtype=float)
    rate = np.array([np.nan if v is None else v for v in points["rate"]], dtype=float) / 1e6
    marker = "o" if len(x) <= 60 else None
    ax.plot(x, loss, color="tab:blue", marker=marker, markersize=3, label="loss")
    ax.set_xlabel("epochs trained")
    ax.set_ylabel("mean loss per term", color="tab:blue")
    ax.tick_params(axis="y", colors="tab:blue")
    ax.grid(True, alpha=0.25)
    right = ax.twinx()
    right.plot(x, rate, color="tab:orange", marker=marker, markersize=3, linestyle="--", label="words/s")
    right.set_ylabel("million words/s", color="tab:orange")
    right.tick_params(axis="y", colors="tab:orange")
    right.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    per = "per block" if points["unit"] == "block" else "per epoch"
    ax.set_title(title if title is not None else f"training: loss and speed ({per})")
    return _finish(fig, path)
