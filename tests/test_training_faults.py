"""Training on settings or models that make it diverge, exhaust memory or overflow the
native types: a one-line error before the long work where it can be known, a clear
stop (never a crash, never NaN vectors written) where it cannot. Crash-prone cases run
in a subprocess, so a regression fails the test instead of killing the run."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trainer_testing import run_cli, write_text, zipf_lines
from w2v_ext import Word2Vec, _native
from w2v_ext.divergence import TrainingDiverged


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(7, 400, 12000, max_len=30)


@pytest.fixture(scope="module")
def long_sentences(zipf_corpus):
    return zipf_corpus(8, 400, 3000, max_len=300)


def _one_line_error(r: subprocess.CompletedProcess, needle: str) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert needle in lines[0], lines[0]


# ---- the trainer's sigmoid ------------------------------------------------------------------

def _bucket_values(x: np.ndarray) -> np.ndarray:
    """quantised_sigmoid restated: 1024 buckets over (-8, 8), each the sigmoid at its middle."""
    bucket = np.minimum(np.floor((x.astype(np.float32) + np.float32(8)) * np.float32(64)), 1023)
    middle = (bucket.astype(np.float64) + 0.5) * (16.0 / 1024) - 8.0
    return (1.0 / (1.0 + np.exp(-middle))).astype(np.float32)


def test_sigmoid_lookup_is_total():
    below_top = np.nextafter(np.float32(8), np.float32(0))          # 7.99999952: rounds into bucket 1024
    above_bottom = np.nextafter(np.float32(-8), np.float32(0))
    edges = np.array([below_top, above_bottom, 8, -8, np.inf, -np.inf, 0, 1e30, -1e30], dtype=np.float32)
    want = np.concatenate([_bucket_values(edges[:2]), np.array([1, 0, 1, 0], np.float32), _bucket_values(edges[6:7]),
                           np.array([1, 0], np.float32)])
    rng = np.random.default_rng(0)
    inside = rng.uniform(-8, 8, 100_000).astype(np.float32)
    inside = inside[(inside > -8) & (inside < 8)]
    for lookup in (_native.cpu.sigmoid_table, _native.cpu.quantised_sigmoid):
        assert np.array_equal(lookup(edges), want)
        assert np.array_equal(lookup(inside), _bucket_values(inside))
        assert np.isnan(lookup(np.array([np.nan], np.float32))[0])   # NaN stays NaN: the loss shows it


# ---- divergence -------------------------------------------------------------------------------

@pytest.mark.parametrize("args,cause", [
    (["--alpha", "1"], "alpha=1 is 40x"),
    (["--dim", "10", "--negative", "2000"], "negative=2000"),
    (["--model", "cbow", "--cbow-sum", "--window", "200", "--epochs", "5"], "cbow_mean=False"),
    (["--init-range", "1e30"], "init_range=1e+30"),
], ids=["alpha", "negative", "cbow-sum", "init-range"])
def test_divergence_stops_with_the_cause_and_writes_nothing(corpus, long_sentences, tmp_path, args, cause):
    out = tmp_path / "v.bin"
    text = long_sentences if "--window" in args else corpus   # a 200-word window needs sentences that long
    r = run_cli("train", text, "-o", out, "--model", "sg", "--epochs", "1", "--min-count", "1", "--threads", "1",
                "--quiet", *args, timeout=300)
    _one_line_error(r, "training diverged")
    assert cause in r.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_api_divergence_raises_and_names_the_cause(corpus):
    model = Word2Vec(model="sg", epochs=1, min_count=1, alpha=1.0, threads=1, progress=False).build_vocab(corpus)
    with pytest.raises(TrainingDiverged, match="alpha=1 is 40x"):
        model.train(corpus)


def test_resuming_a_model_with_nan_weights_is_refused(corpus, tmp_path):
    model = Word2Vec(model="sg", epochs=1, min_count=1, threads=1, progress=False).build_vocab(corpus)
    model.input[3, 5] = np.nan
    from w2v_ext.model_format import save_model
    save_model(tmp_path / "bad.model", model)
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--resume", tmp_path / "bad.model", "--quiet")
    _one_line_error(r, "bad.model" if "bad.model" in r.stderr else "NaN")
    assert "NaN" in r.stderr or "nan" in r.stderr
    assert not (tmp_path / "v.bin").exists()
    # the API says so before training too, whatever the loader let through
    model.input[3, 5] = np.nan
    with pytest.raises(TrainingDiverged, match=r"NaN or infinite values before training \(row 3"):
        model.train(corpus)


# ---- memory: windows, negatives and dimensions -----------------------------------------------

def test_a_window_wider_than_any_sentence_costs_a_sentence(tmp_path):
    """The scratch was sized 2 * window * dim per thread inside the parallel region: a
    failed allocation there aborted the process. A window never holds more than a sentence."""
    rng = np.random.default_rng(3)
    corpus = write_text(tmp_path / "short.txt", zipf_lines(rng, 100, 3000, max_len=12))
    code = textwrap.dedent(f"""
        from w2v_ext import Word2Vec
        m = Word2Vec({corpus!r}, model="sg", epochs=1, window=2**31 - 1, shared_negatives=False, min_count=1, threads=2, progress=False)
        assert m.history and m.history[-1]["loss"] > 0
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "ok" in r.stdout, (r.returncode, r.stderr[-2000:])


def test_scratch_allocation_failure_is_a_memory_error_with_the_sizes():
    """With the address space limited, the native scratch cannot be allocated: a
    MemoryError that says what was asked for, not std::terminate."""
    code = textwrap.dedent("""
        import resource
        import numpy as np
        from w2v_ext import _native
        from w2v_ext.trainer import padded_table
        V = 50
        inp, out = padded_table(V, 16), padded_table(V, 16)
        accept = np.full(V, 2**32 - 1, dtype=np.uint32)
        alias = np.arange(V, dtype=np.int32)
        settings = _native.cpu.TrainSettings(architecture=0, window=5, negative=2**30, alpha=0.025, cbow_mean=True,
                                             shared_negatives=True, seed=1, loss_every=0)
        ids = np.arange(20, dtype=np.int32) % V
        ends = np.array([20], dtype=np.int64)
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, hard))
        try:
            trainer = _native.cpu.Trainer(inp, out, 16, None, accept, alias, settings, 2)
            trainer.train_block(ids, ends, 0, 0, 0.0, 20.0)
        except MemoryError as e:
            print("MemoryError:", e)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert "MemoryError: the trainer's working memory does not fit" in r.stdout
    assert "negative 1073741824" in r.stdout and "thread(s) x" in r.stdout


def test_tables_too_large_are_refused_before_counting(tmp_path):
    """dim=2**31-1 needs 17 GB a word: refused from the corpus size, before any counting."""
    rng = np.random.default_rng(5)
    corpus = write_text(tmp_path / "c.txt", zipf_lines(rng, 300, 20000))
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--dim", str(2**31 - 1))
    _one_line_error(r, "more than this machine's")
    assert "estimated from the corpus size" in r.stderr and "vocabulary:" not in r.stderr


def test_tables_too_large_for_the_counted_vocabulary_are_refused_before_allocating():
    sentences = [[f"w{i}" for i in range(50)]] * 3   # in memory: no size to estimate from before counting
    model = Word2Vec(dim=2**31 - 1, min_count=1, progress=False)
    with pytest.raises(ValueError, match=r"dim=2147483647 for 50 vocabulary words take"):
        model.build_vocab(sentences)


# ---- settings beyond the native types ----------------------------------------------------

@pytest.mark.parametrize("kw,needle", [
    (dict(window=2**31), "window must be a positive integer"),
    (dict(negative=2**31), "negative must be a positive integer"),
    (dict(dim=2**40), "dim must be a positive integer"),
    (dict(seed=2**64), "seed must be an integer >= 0"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(seed=1.5), "seed must be an integer"),
    (dict(min_count=10**30), "min_count must be a positive integer"),
    (dict(threads=2**31), "threads must be an integer >= 0"),
    (dict(max_final_vocab=2**63), "max_final_vocab must be a positive integer or None"),
    (dict(cbow_mean="no"), "cbow_mean must be True or False"),
    (dict(shared_negatives=2), "shared_negatives must be True or False"),
    (dict(device=None), "device must be 'cpu', 'cuda' or 'cuda:N'"),
    (dict(device=0), "device must be 'cpu', 'cuda' or 'cuda:N'"),
    (dict(sample=float("inf")), "sample must be >= 0 and finite"),
    (dict(alpha=1e39), "alpha must be > 0 and finite"),
    (dict(model=None), "model must be 'sg' or 'cbow'"),
])
def test_settings_beyond_their_native_types_are_refused(kw, needle):
    with pytest.raises(ValueError, match=needle):
        Word2Vec(**kw)


@pytest.mark.parametrize("flag,value", [("--seed", str(2**64)), ("--window", str(2**31)),
                                        ("--negative", str(2**31)), ("--min-count", str(10**30))])
def test_cli_integers_beyond_native_types_fail_before_counting(corpus, tmp_path, flag, value):
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", flag, value)
    _one_line_error(r, flag.lstrip("-").replace("-", "_"))
    assert "vocabulary:" not in r.stderr
