"""`w2v-ext demo` end to end on the shipped sample (what a newcomer runs first): it
trains, its printed neighbours and analogies make sense, its files are where it says
and the plots are real PNGs; without matplotlib it still runs and says what to install.
Also: the sample itself (size, content, licence named), py.typed, `python -m w2v_ext`."""
from __future__ import annotations

import lzma
import os
import re
import subprocess
import sys
import time

import pytest

from plot_testing import assert_drawn_png, no_matplotlib_path
from trainer_testing import REPO, run_cli
from w2v_ext import demo
from w2v_ext.vectors import KeyedVectors

# Small and quick (a few seconds on 2 cores), yet enough for the relations below: checked
# with seeds 1-20 and 1 or 2 threads, they held every time. (At these settings "french"
# and "mother" are not always the top answer of their analogies, only among the three
# printed; at the demo's defaults they nearly always are.)
QUICK = ["--epochs", "3", "--dim", "50", "--threads", "2", "--seed", "7"]
NUMBERS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"}
COUNTRIES = {"germany", "spain", "italy", "austria", "russia", "switzerland", "poland", "sweden", "belgium",
             "britain", "england", "portugal", "hungary", "netherlands", "denmark"}


def parse_demo(stdout: str) -> dict:
    """{"neighbours": {word: [neighbour, ...]}, "analogies": {(a, b, c): [answer, runner-up, ...]},
    "files": [path, ...]} from what the demo printed."""
    section, out = None, {"neighbours": {}, "analogies": {}, "files": []}
    for line in stdout.splitlines():
        if line.startswith("Nearest neighbours"):
            section = "neighbours"
        elif line.startswith("Analogies"):
            section = "analogies"
        elif line.startswith("Files"):
            section = "files"
        elif not line.startswith("  "):
            section = None
        elif section == "neighbours":
            word, rest = line.split(None, 1)
            out["neighbours"][word] = [item.split()[0] for item in rest.split(", ")]
        elif section == "analogies":
            m = re.match(r"\s+(\S+) : (\S+) :: (\S+) : (\S+) \((-?[\d.]+)\)\s+then (.*)$", line)
            runners_up = [item.split()[0] for item in m.group(6).split(", ")]
            out["analogies"][m.group(1, 2, 3)] = [m.group(4)] + runners_up
        elif section == "files" and not line.strip().startswith("plots skipped"):
            out["files"].append(re.split(r"\s{2,}", line.strip())[0])   # path, 2+ spaces, what it is
    return out


def check_relations(result: dict) -> None:
    """Relations the sample supports at the quick settings."""
    nb = result["neighbours"]
    assert set(nb) == set(demo.NEIGHBOUR_WORDS), nb
    assert all(len(v) == demo.SHOWN_NEIGHBOURS for v in nb.values())
    assert len(NUMBERS & set(nb["two"])) >= 3, nb["two"]
    assert len(MONTHS & set(nb["january"])) >= 4, nb["january"]
    assert "mother" in nb["father"], nb["father"]
    assert len(COUNTRIES & set(nb["france"])) >= 3, nb["france"]
    an = result["analogies"]
    assert list(an) == list(demo.ANALOGIES) and all(len(answers) == 3 for answers in an.values())
    assert an[("he", "his", "she")][0] == "her", an
    assert "french" in an[("germany", "german", "france")] and "mother" in an[("brother", "sister", "father")], an


def test_demo_end_to_end(tmp_path):
    out_dir = tmp_path / "demo out"
    start = time.perf_counter()
    r = run_cli("demo", "--output-dir", out_dir, "--quiet", *QUICK)
    seconds = time.perf_counter() - start
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""                                          # --quiet: no progress line
    assert seconds < 60, seconds
    result = parse_demo(r.stdout)
    check_relations(result)
    assert "2,000,000 words of English Wikipedia" in r.stdout and "CC BY-SA 4.0" in r.stdout
    assert re.search(r"vocabulary\s+21,184 words", r.stdout)
    assert f"Files (in {out_dir}):" in r.stdout
    # the files it lists are there
    vectors, neighbours, curve = (str(out_dir / name) for name in ("vectors.bin", "neighbours.png",
                                                                    "training_curve.png"))
    assert result["files"] == [vectors, neighbours, curve]
    kv = KeyedVectors.load_word2vec_format(vectors)
    assert (len(kv), kv.dim) == (21184, 50) and kv.words[:3] == ["the", "of", "and"]
    assert_drawn_png(neighbours, size=(800, 700))
    assert_drawn_png(curve, size=(800, 450))
    assert f"w2v-ext similar '{vectors}' music" in r.stdout            # quoted: the path has a space
    # the command it suggests works on what it wrote
    r = run_cli("similar", vectors, "january", "--topn", "3")
    assert r.returncode == 0 and len(MONTHS & {line.split()[1] for line in r.stdout.splitlines()}) >= 2


def test_run_demo_in_python_draws_the_expected_labels(tmp_path):
    """The Python entry point returns what it printed; the neighbours plot labels the
    demo's plot words and their neighbours (checked on the figure, then on the file)."""
    import io

    from w2v_ext import plot
    seen = {}
    real = plot.plot_neighbours

    def spy(kv, words, path, **kw):
        seen["fig"] = real(kv, words, path, **kw)
        seen["expected"] = [w for q in words for w in [q] + [n for n, _ in kv.most_similar(q, topn=kw["topn"])]]
        return seen["fig"]

    out = io.StringIO()
    plot.plot_neighbours = spy
    try:
        result = demo.run_demo(str(tmp_path / "d"), epochs=1, dim=20, threads=2, seed=3, progress=False, out=out)
    finally:
        plot.plot_neighbours = real
    labels = [t.get_text() for t in seen["fig"].axes[0].texts]
    assert labels == list(dict.fromkeys(seen["expected"])) and labels[0] == demo.PLOT_WORDS[0]
    assert {t.get_text() for t in seen["fig"].axes[0].texts if t.get_fontweight() == "bold"} == set(demo.PLOT_WORDS)
    assert result["plots"] == [str(tmp_path / "d" / "neighbours.png"), str(tmp_path / "d" / "training_curve.png")]
    assert result["plot_error"] is None and result["vocab"] == 21184
    assert [a for a, _ in result["analogies"]] == list(demo.ANALOGIES)
    assert len(result["records"]) == 2 and result["records"][-1]["position"] == pytest.approx(1.0)
    text = out.getvalue()
    for word, pairs in result["neighbours"].items():
        joined = ", ".join(f"{w} {s:.2f}" for w, s in pairs)
        assert re.search(rf"^  {word}\s+{re.escape(joined)}$", text, re.M), (word, joined)


def test_demo_without_matplotlib_still_trains_and_says_what_to_install(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [no_matplotlib_path(tmp_path),
                                                                     os.environ.get("PYTHONPATH")])))
    r = run_cli("demo", "--output-dir", tmp_path / "d", "--quiet", "--epochs", "1", "--dim", "20", env=env)
    assert r.returncode == 0, r.stderr
    assert "plots skipped: plotting needs matplotlib: pip install 'w2v_ext[plot]'" in r.stdout
    assert sorted(os.listdir(tmp_path / "d")) == ["vectors.bin"]
    assert parse_demo(r.stdout)["files"] == [str(tmp_path / "d" / "vectors.bin")]


def test_demo_errors_are_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    r = run_cli("demo", "--output-dir", tmp_path / "file")
    assert r.returncode == 1 and r.stderr.strip() == f"w2v-ext demo: error: output directory " \
                                                     f"'{tmp_path / 'file'}' is a file"
    r = run_cli("demo", "--epochs", "0")
    assert r.returncode == 2 and "expected a positive integer, got 0" in r.stderr


def test_progress_goes_to_stderr(tmp_path):
    r = run_cli("demo", "--output-dir", tmp_path / "d", "--epochs", "1", "--dim", "10")
    assert r.returncode == 0, r.stderr
    assert re.search(r"epoch 1/1 .* words/s", r.stderr) and "words/s" not in r.stdout.split("trained in")[0]


# ---- what ships --------------------------------------------------------------------------

def test_sample_corpus_is_small_text_with_its_source_and_licence_named():
    path = demo.sample_corpus()
    assert path.endswith(os.path.join("w2v_ext", "data", "enwiki_sample.txt.xz"))
    assert os.path.getsize(path) < 4_000_000
    with lzma.open(path, "rb") as f:
        text = f.read()
    words = text.split()
    assert len(words) == demo.SAMPLE_WORDS == 2_000_000
    assert words[:4] == [b"anarchism", b"is", b"a", b"political"]
    assert re.fullmatch(rb"[a-z ]+\n", text)                       # text8 style: one line of a-z words
    data_readme = open(os.path.join(os.path.dirname(path), "README.md"), encoding="utf-8").read()
    readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    for doc in (data_readme, readme):
        assert "Wikipedia" in doc and "CC BY-SA 4.0" in doc and "enwiki_sample.txt.xz" in doc


def test_package_ships_py_typed_and_the_sample():
    from importlib.resources import files
    package = files("w2v_ext")
    assert package.joinpath("py.typed").is_file()
    assert package.joinpath("data", "enwiki_sample.txt.xz").is_file()
    # everything under python/w2v_ext is package data for scikit-build-core
    pyproject = open(os.path.join(REPO, "pyproject.toml"), encoding="utf-8").read()
    assert 'wheel.packages = ["python/w2v_ext"]' in pyproject


def test_python_m_w2v_ext_lists_the_commands():
    r = subprocess.run([sys.executable, "-m", "w2v_ext", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for command in ("demo", "train", "eval", "similar", "plot"):
        assert re.search(rf"^\s+{command}\s", r.stdout, re.M), command
