"""w2v_ext.plot and `w2v-ext plot` / `train --curve`: projections, the labels drawn (the
figure's text artists), label placement, PNG files that decode and show something,
training curves from block records and epoch stats, and the messages without
matplotlib or scikit-learn."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from plot_testing import assert_drawn_png, no_matplotlib_path, png_size
from trainer_testing import REPO, run_cli
from w2v_ext import plot
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors

matplotlib = pytest.importorskip("matplotlib")

GROUPS = {"animal": ["dog", "cat", "horse", "cow", "sheep"], "fruit": ["apple", "banana", "pear", "plum", "fig"],
          "colour": ["red", "blue", "green", "pink", "grey"], "number": ["one", "two", "three", "four", "five"]}


@pytest.fixture(scope="module")
def kv():
    """Four tight clusters of five words in 24-D (cluster centres far apart)."""
    rng = np.random.default_rng(0)
    words, vectors = [], []
    for g, members in enumerate(GROUPS.values()):
        centre = rng.normal(size=24) * 3
        for w in members:
            words.append(w)
            vectors.append(centre + rng.normal(size=24) * 0.3)
    return KeyedVectors(words, np.array(vectors), counts=np.arange(len(words), 0, -1))


def texts(fig, axes=0):
    return [t.get_text() for t in fig.axes[axes].texts]


def scatter_offsets(fig):
    return np.asarray(fig.axes[0].collections[0].get_offsets())


# ---- projection ------------------------------------------------------------------------

def test_pca_projection_matches_numpy_and_is_stable():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 8))
    coords = plot.project(x)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    centred = unit - unit.mean(0)
    # the first two principal components: the same up to sign, with the variances of the top axes
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(coords), np.abs(centred @ vt[:2].T), atol=1e-12)
    np.testing.assert_allclose(coords.std(0) * np.sqrt(30), s[:2], rtol=1e-10)
    # the sign rule: scaling the input or adding noise-free copies never flips an axis
    np.testing.assert_allclose(plot.project(3 * x), coords, atol=1e-12)
    # degenerate inputs
    assert plot.project(x[:1]).shape == (1, 2) and not plot.project(x[:1]).any()
    two = plot.project(x[:2])
    assert two.shape == (2, 2) and np.allclose(two[:, 1], 0) and two[0, 0] == pytest.approx(-two[1, 0])
    assert plot.project(np.zeros((0, 8))).shape == (0, 2)


def test_project_none_and_errors():
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    assert np.array_equal(plot.project(x, "none"), x)
    with pytest.raises(ValueError, match="2-D vectors"):
        plot.project(np.ones((3, 5)), "none")
    with pytest.raises(ValueError, match="method must be one of pca, tsne, none"):
        plot.project(x, "umap")
    with pytest.raises(ValueError, match=r"\[n, d\]"):
        plot.project(np.ones(4))


# ---- word plots: labels, placement, PNG -----------------------------------------------------

def test_plot_words_labels_each_point_and_writes_a_png(kv, tmp_path):
    words = ["dog", "cat", "apple", "red", "one", "two"]
    path = tmp_path / "words.png"
    fig = plot.plot_words(kv, words, path)
    assert texts(fig) == words                                   # one label per word, in order
    offsets = scatter_offsets(fig)
    assert offsets.shape == (6, 2)
    np.testing.assert_allclose(offsets, plot.project(kv[words]))  # the points are the projection
    for text, point in zip(fig.axes[0].texts, offsets):
        np.testing.assert_allclose(text.xy, point)              # each label points at its own point
    assert fig.axes[0].get_title() == "6 words (pca)"
    assert_drawn_png(path, size=(700, 600))                      # 7 x 6 inches at 100 dpi


def test_similar_words_land_together(kv):
    fig = plot.plot_words(kv, [w for ws in GROUPS.values() for w in ws])
    xy = scatter_offsets(fig)
    groups = np.repeat(np.arange(4), 5)
    centres = np.array([xy[groups == g].mean(0) for g in range(4)])
    spread = max(np.linalg.norm(xy[groups == g] - centres[g], axis=1).max() for g in range(4))
    gaps = min(np.linalg.norm(centres[a] - centres[b]) for a in range(4) for b in range(a + 1, 4))
    assert gaps > 2 * spread, (gaps, spread)


def _label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in fig.axes[0].texts]


def test_crowded_labels_are_moved_apart():
    """Twelve words almost on one spot: every label still gets a box of its own."""
    rng = np.random.default_rng(3)
    words = [f"word{i}" for i in range(12)]
    base = rng.normal(size=(1, 10))
    crowded = KeyedVectors(words + ["far"], np.vstack([base + 0.01 * rng.normal(size=(12, 10)), -base]))
    fig = plot.plot_words(crowded, words + ["far"])
    assert texts(fig) == words + ["far"]
    boxes = _label_boxes(fig)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            overlap = max(0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0, min(a.y1, b.y1) - max(a.y0, b.y0))
            assert overlap < 1.0, (texts(fig)[i], texts(fig)[j], overlap)


def test_plot_neighbours_labels_query_then_its_neighbours(kv, tmp_path):
    path = tmp_path / "n.png"
    fig = plot.plot_neighbours(kv, "dog", path, topn=4)
    expected = ["dog"] + [w for w, _ in kv.most_similar("dog", topn=4)]
    assert texts(fig) == expected and set(expected[1:]) <= set(GROUPS["animal"])
    weights = [t.get_fontweight() for t in fig.axes[0].texts]
    assert weights[0] == "bold" and all(w == "normal" for w in weights[1:])
    assert_drawn_png(path, size=(800, 700))
    # several query words: a colour per group, a word plotted once even if two groups share it
    fig = plot.plot_neighbours(kv, ["dog", "apple", "cat"], topn=3)
    labels = texts(fig)
    assert labels[:4] == ["dog"] + [w for w, _ in kv.most_similar("dog", topn=3)]
    assert len(labels) == len(set(labels)) and {"apple", "cat"} <= set(labels)
    colours = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert colours["dog"] != colours["apple"]


def test_unknown_words_and_empty_lists(kv):
    with pytest.raises(KeyError, match="'dgo' not in vocabulary.*close words: dog"):
        plot.plot_words(kv, ["cat", "dgo"])
    with pytest.raises(KeyError, match="'appel'"):
        plot.plot_neighbours(kv, "appel")
    with pytest.raises(ValueError, match="no words to plot"):
        plot.plot_words(kv, [])


def test_raw_2d_vectors_and_drawing_into_given_axes(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kv2 = KeyedVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]]))
    fig = Figure(figsize=(8, 4))
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    assert plot.plot_words(kv2, ["a", "b", "c"], method="none", ax=left, title="raw") is fig
    plot.plot_words(kv2, ["c", "a"], method="pca", ax=right)
    np.testing.assert_allclose(np.asarray(left.collections[0].get_offsets()), kv2.vectors)
    assert [t.get_text() for t in left.texts] == ["a", "b", "c"] and left.get_title() == "raw"
    assert [t.get_text() for t in right.texts] == ["c", "a"]
    fig.savefig(tmp_path / "two.png")
    assert png_size(tmp_path / "two.png") == (800, 400)


def test_tsne_when_scikit_learn_is_installed(kv):
    pytest.importorskip("sklearn")
    fig = plot.plot_words(kv, [w for ws in GROUPS.values() for w in ws], method="tsne")
    assert len(texts(fig)) == 20 and fig.axes[0].get_xlabel() == "t-SNE 1"


# ---- training curves ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(5, 60, 400)


def test_block_records_and_their_curve(corpus, tmp_path):
    records, seen_by = [], []
    model = Word2Vec(model="sg", dim=8, min_count=1, epochs=3, threads=1, progress=False,
                     block_callbacks=[lambda m, r: seen_by.append(m)], block_bytes=2000)   # many points
    model.build_vocab(corpus)
    stats = model.train(corpus, block_callbacks=[lambda m, r: records.append(dict(r))])
    assert len(records) == len(seen_by) > 6 and all(m is model for m in seen_by)
    assert set(records[0]) == {"epoch", "position", "progress", "words", "corpus_words", "seconds",
                               "words_per_s", "alpha", "loss"}
    position = [r["position"] for r in records]
    assert np.all(np.diff(position) > 0) and position[-1] == pytest.approx(3.0)
    assert [r["epoch"] for r in records] == sorted(r["epoch"] for r in records) and records[-1]["epoch"] == 3
    assert records[-1]["progress"] == pytest.approx(1.0)
    assert sum(r["words"] for r in records) == stats["words"] == 3 * model.vocab.total
    assert sum(r["corpus_words"] for r in records) == stats["corpus_words"]
    assert np.all(np.diff([r["alpha"] for r in records]) < 0)          # the learning rate decays
    assert all(r["words_per_s"] > 0 and r["seconds"] > 0 for r in records)
    assert all(r["loss"] is None or r["loss"] > 0 for r in records)

    path = tmp_path / "curve.png"
    fig = plot.plot_training_curve(records, path)
    loss_line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(loss_line.get_xdata(), position)
    np.testing.assert_allclose(loss_line.get_ydata(), [np.nan if r["loss"] is None else r["loss"] for r in records])
    rate_line = fig.axes[1].get_lines()[0]
    np.testing.assert_allclose(rate_line.get_ydata(), [r["words_per_s"] / 1e6 for r in records])
    assert_drawn_png(path, size=(800, 450))
    # per-epoch stats: model.history, or the model itself
    for history in (model.history, model):
        fig = plot.plot_training_curve(history)
        assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="no training records"):
        plot.plot_training_curve([])
    with pytest.raises(ValueError, match="block records"):
        plot.plot_training_curve([{"x": 1}])


# ---- without matplotlib / scikit-learn -------------------------------------------------------

def test_python_api_without_matplotlib(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        import numpy as np
        from w2v_ext.plot import plot_words, OptionalDependencyError
        from w2v_ext.vectors import KeyedVectors
        kv = KeyedVectors(["a", "b"], np.eye(2))
        try:
            plot_words(kv, ["a", "b"], "x.png")
        except OptionalDependencyError as e:
            assert isinstance(e, ImportError)
            print(e)
    """)
    r = subprocess.run([sys.executable, "-c", code, no_matplotlib_path(tmp_path)], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "plotting needs matplotlib: pip install 'w2v_ext[plot]' (or: pip install matplotlib)"
    assert not (tmp_path / "x.png").exists()


def test_tsne_without_scikit_learn(kv, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(plot.OptionalDependencyError, match="needs scikit-learn: pip install scikit-learn"):
        plot.plot_words(kv, ["dog", "cat", "cow"], method="tsne")


# ---- the command line ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def vectors(kv, tmp_path_factory):
    path = tmp_path_factory.mktemp("plotcli") / "vectors.bin"
    kv.save_word2vec_format(path, binary=True)
    return path


def test_cli_plot_words_and_neighbours(vectors, tmp_path):
    out = tmp_path / "words.png"
    r = run_cli("plot", vectors, "--words", "dog,cat,apple", "--words", "red", "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {out}: 4 words (pca)"
    assert_drawn_png(out, size=(700, 600))
    out = tmp_path / "neighbours.svg"
    r = run_cli("plot", vectors, "--neighbours", "dog,one", "--topn", "3", "-o", out)
    assert r.returncode == 0, r.stderr
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


@pytest.mark.parametrize("args, message", [
    (["--words", "dog,dgo"], "error: 'dgo' is not in the vocabulary of {vectors}; closest vocabulary words: dog"),
    (["--neighbours", "aple"], "error: 'aple' is not in the vocabulary of {vectors}; closest vocabulary words: "
                               "apple"),
    (["--words", ",", ], "error: no words given"),
    (["--words", "dog", "-o", "{tmp}/words.xyz"], "error: -o/--output: cannot tell the image format of "
                                                  "'{tmp}/words.xyz': end it with .png, .svg or .pdf"),
    (["--words", "dog", "-o", "{tmp}/missing/words.png"], "error: -o/--output: cannot write {tmp}/missing/words.png: "
                                                          "output directory {tmp}/missing does not exist"),
])
def test_cli_plot_errors_are_one_line(vectors, tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "p.png")]
    r = run_cli("plot", vectors, *args)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v-ext plot: error: "), r.stderr
    assert message.format(vectors=vectors, tmp=tmp_path) in lines[0]
    assert not (tmp_path / "p.png").exists()


def test_cli_plot_missing_vectors_and_usage_errors(tmp_path):
    r = run_cli("plot", tmp_path / "nope.bin", "--words", "a", "-o", tmp_path / "p.png")
    assert r.returncode == 1 and r.stderr.strip() == f"w2v-ext plot: error: vectors file '{tmp_path / 'nope.bin'}' " \
                                                     f"does not exist"
    r = run_cli("plot", tmp_path / "nope.bin", "-o", tmp_path / "p.png")          # neither --words nor --neighbours
    assert r.returncode == 2 and "one of the arguments --words --neighbours" in r.stderr
    r = run_cli("--verbose", "plot", tmp_path / "nope.bin", "--words", "a", "-o", tmp_path / "p.png")
    assert r.returncode != 0 and "Traceback (most recent call last)" in r.stderr


def test_cli_plot_and_train_curve_without_matplotlib(vectors, corpus, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [no_matplotlib_path(tmp_path),
                                                                     os.environ.get("PYTHONPATH")])))
    expected = "error: plotting needs matplotlib: pip install 'w2v_ext[plot]' (or: pip install matplotlib)"
    r = run_cli("plot", vectors, "--words", "dog", "-o", tmp_path / "p.png", env=env)
    assert r.returncode == 1 and r.stderr.strip() == f"w2v-ext plot: {expected}"
    # train --curve says so before training, and writes nothing
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--curve", tmp_path / "c.png", "--min-count", "1",
                env=env)
    assert r.returncode == 1 and r.stderr.strip() == f"w2v-ext train: {expected}"
    assert not (tmp_path / "v.bin").exists() and not (tmp_path / "c.png").exists()


def test_cli_train_curve(corpus, tmp_path):
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--curve", tmp_path / "curve.png", "--min-count", "1",
                "--model", "sg", "--dim", "8", "--epochs", "3", "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert f"wrote {tmp_path / 'curve.png'}" in r.stderr
    assert_drawn_png(tmp_path / "curve.png", size=(800, 450))


def test_module_imports_no_matplotlib_until_a_plot_is_drawn():
    code = "import sys, w2v_ext.plot, w2v_ext.cli, w2v_ext.demo; print('matplotlib' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
