"""`w2v-ext demo`: train skip-gram on the sample corpus shipped with the package, print
nearest neighbours and analogies, and write the vectors, a neighbours plot and a
training curve. No network, no torch; matplotlib only for the plots (without it they
are skipped with a note saying what to install). The demo asks for skip-gram; the
trainer's default model is CBOW, as word2vec.c's and gensim's.

The sample (``w2v_ext/data/enwiki_sample.txt.xz``, about 3 MB) is the first 2,000,000
words of English Wikipedia, cleaned like text8 (lower case, letters only, digits
spelled out); Wikipedia's text is licensed CC BY-SA 4.0. See data/README.md.

    from w2v_ext.demo import run_demo, sample_corpus
    result = run_demo("w2v_ext_demo", epochs=5)      # what `w2v-ext demo` does
    Word2Vec(sample_corpus(), model="sg")            # or train on the sample yourself
"""
from __future__ import annotations

import os
import shlex
import sys
from typing import Dict, List, Optional, TextIO, Tuple

__all__ = ["SAMPLE_NAME", "SAMPLE_WORDS", "sample_corpus", "run_demo", "NEIGHBOUR_WORDS", "ANALOGIES"]

SAMPLE_NAME = "enwiki_sample.txt.xz"
SAMPLE_WORDS = 2_000_000
SAMPLE_SOURCE = "English Wikipedia, cleaned like text8 (CC BY-SA 4.0)"

# Words and analogies the sample supports, checked over seeds 1-6 with 1 and 2 threads:
# their neighbours are numbers, months, weekdays, relatives, countries and colours, and
# the analogies' expected answers (her, mother, french, four, woman) come first nearly
# every time at the default settings (the last one misses now and then).
NEIGHBOUR_WORDS = ("two", "january", "monday", "father", "france", "red")
ANALOGIES = (("he", "his", "she"), ("brother", "sister", "father"), ("germany", "german", "france"),
             ("one", "two", "three"), ("boy", "girl", "man"))
MODEL_NAMES = {"sg": "skip-gram", "cbow": "CBOW"}
PLOT_WORDS = ("two", "father", "france", "music")
PLOT_TOPN = 8
SHOWN_NEIGHBOURS = 6


def sample_corpus() -> str:
    """Path of the sample corpus shipped in the package (xz-compressed text, one line of
    2,000,000 words; the corpus reader decompresses it on the fly)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", SAMPLE_NAME)
    if not os.path.exists(path):
        raise FileNotFoundError(f"the sample corpus {path} is missing from this installation of w2v_ext "
                                f"(reinstall the package)")
    return path


def run_demo(output_dir: str = "w2v_ext_demo", *, epochs: int = 5, threads: int = 0, dim: int = 100, seed: int = 1,
             progress: bool = True, plots: bool = True, out: Optional[TextIO] = None) -> dict:
    """Train on the sample, print what the vectors learned to `out` (default stdout;
    the progress line goes to stderr), and write into `output_dir` (created if needed):
    vectors.bin (word2vec binary), neighbours.png and training_curve.png (when
    matplotlib is installed and `plots`).

    Returns {"vectors": path, "plots": [paths], "plot_error": message or None,
    "neighbours": {word: [(neighbour, cosine), ...]}, "analogies": [((a, b, c),
    [(answer, score), ...]), ...], "stats": the training stats, "vocab": V}.
    """
    from .atomic_file import check_output_path
    from .plot import OptionalDependencyError, plot_neighbours, plot_training_curve
    from .settings import Settings
    from .trainer import Word2Vec

    out = out or sys.stdout

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    corpus = sample_corpus()
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise FileExistsError(f"output directory {output_dir!r} is a file")
    os.makedirs(output_dir, exist_ok=True)
    vectors = os.path.join(output_dir, "vectors.bin")
    neighbours_image = os.path.join(output_dir, "neighbours.png")
    curve_image = os.path.join(output_dir, "training_curve.png")
    for path in [vectors] + ([neighbours_image, curve_image] if plots else []):
        check_output_path(path, "--output-dir")   # before training, not after

    model = Word2Vec(model="sg", dim=dim, epochs=epochs, threads=threads, seed=seed, progress=progress)
    s = model.settings
    say("w2v-ext demo: skip-gram on the sample shipped with w2v_ext")
    say(f"  corpus      {SAMPLE_WORDS:,} words of {SAMPLE_SOURCE}")
    model.build_vocab(corpus)
    say(f"  vocabulary  {len(model.vocab):,} words seen at least {s.min_count} times ({model.vocab_seconds:.1f}s)")
    say(f"  settings    skip-gram (the default is {MODEL_NAMES[Settings().model]}), {epochs} epochs, dim {dim}, "
        f"window {s.window}, {s.negative} negatives, {s.thread_count} threads, seed {seed}")
    records: List[dict] = []
    stats = model.train(corpus, block_callbacks=[lambda m, r: records.append(r)])
    loss = f", final loss {model.history[-1]['loss']:.3f}" if model.history and model.history[-1]["loss"] else ""
    say(f"  trained in  {stats['seconds']:.1f}s ({stats['words_per_s'] / 1e6:.2f}M words/s){loss}")

    kv = model.wv
    neighbours: Dict[str, List[Tuple[str, float]]] = {}
    say()
    say("Nearest neighbours (cosine similarity):")
    width = max(len(w) for w in NEIGHBOUR_WORDS)
    for word in NEIGHBOUR_WORDS:
        if word not in kv:
            continue
        neighbours[word] = kv.most_similar(word, topn=SHOWN_NEIGHBOURS)
        say(f"  {word:<{width}}  " + ", ".join(f"{w} {score:.2f}" for w, score in neighbours[word]))

    analogies = []
    say()
    say("Analogies, a : b :: c : ?  (3CosAdd; the answer, then the runners-up):")
    for a, b, c in ANALOGIES:
        if not all(w in kv for w in (a, b, c)):
            continue
        answers = kv.analogy(a, b, c, topn=3)
        analogies.append(((a, b, c), answers))
        best, score = answers[0]
        rest = ", ".join(f"{w} {v:.2f}" for w, v in answers[1:])
        say(f"  {a} : {b} :: {c} : {best} ({score:.2f})".ljust(48) + f"then {rest}")

    model.save(vectors)
    written = [(vectors, "word2vec binary: w2v-ext similar / plot, gensim and word2vec.c read it")]
    plot_paths: List[str] = []
    plot_error = None
    if plots:
        try:
            plot_neighbours(kv, [w for w in PLOT_WORDS if w in kv], neighbours_image, topn=PLOT_TOPN,
                            title=f"nearest neighbours on the sample ({epochs} epochs, PCA of unit vectors)")
            written.append((neighbours_image, f"{', '.join(PLOT_WORDS)} and their {PLOT_TOPN} nearest neighbours"))
            plot_paths.append(neighbours_image)
            plot_training_curve(records, curve_image, title="training on the sample: loss and words/s per block")
            written.append((curve_image, "loss and words/s while training"))
            plot_paths.append(curve_image)
        except OptionalDependencyError as e:
            plot_error = str(e)

    say()
    say(f"Files (in {os.path.abspath(output_dir)}):")
    for path, what in written:
        say(f"  {path:<{max(len(p) for p, _ in written)}}  {what}")
    if plot_error:
        say(f"  plots skipped: {plot_error}")
    say()
    say("Try next:")
    quoted = shlex.quote(vectors)
    say(f"  w2v-ext similar {quoted} music")
    say(f"  w2v-ext plot {quoted} --words red,blue,green,one,two,three,paris,london,berlin -o words.png")
    say("  w2v-ext train your_corpus.txt -o vectors.bin --epochs 5 --curve curve.png")
    return {"vectors": vectors, "plots": plot_paths, "plot_error": plot_error, "neighbours": neighbours,
            "analogies": analogies, "stats": stats, "vocab": len(kv), "records": records}
