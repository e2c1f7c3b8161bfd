"""Determinism of the corpus trainer with one thread: the same seed gives bit-identical
vectors, the reader's block size does not matter, and a run stopped with Ctrl-C, saved,
loaded and trained again ends bit-identical to an uninterrupted run. Callbacks run once
per epoch with the epoch's stats."""
from __future__ import annotations

import math
import signal

import numpy as np
import pytest

from trainer_testing import BlockRecorder, write_text
from w2v_ext import model_format
from w2v_ext.trainer import Word2Vec

SETTINGS = dict(model="sg", epochs=1, dim=10, window=3, negative=3, min_count=2, sample=1e-2, threads=1, progress=False)


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(11, 60, 250, extra=["rare1 rare2 w0 w1"])


def trained(corpus, **kw) -> Word2Vec:
    model = Word2Vec(**dict(SETTINGS, **kw))
    model.build_vocab(corpus)
    model.train(corpus)
    return model


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_same_seed_bit_identical_other_seed_differs(corpus, model):
    a, b = trained(corpus, model=model, epochs=2), trained(corpus, model=model, epochs=2)
    assert np.array_equal(a.input, b.input) and np.array_equal(a.output, b.output)
    assert a.input.tobytes() == b.input.tobytes()
    c = trained(corpus, model=model, epochs=2, seed=2)
    assert not np.array_equal(a.input, c.input) and not np.array_equal(a.output, c.output)
    # the seed also keys the training draws, not only the initial vectors
    d = Word2Vec(**dict(SETTINGS, model=model, epochs=2, seed=3))
    d.build_vocab(corpus)
    init = Word2Vec(**dict(SETTINGS, model=model, seed=1))
    init.build_vocab(corpus)
    d.set_weights(init.input, np.zeros_like(init.output))
    d.train(corpus)
    assert not np.array_equal(d.input, a.input)
    init.train(corpus, epochs=2)  # the control: seed 1 from the same weights is a again
    assert np.array_equal(init.input, a.input)


@pytest.mark.parametrize("model,extra", [("sg", {}), ("sg", {"shared_negatives": False}), ("cbow", {})])
def test_result_does_not_depend_on_block_size(corpus, model, extra):
    base_rec = BlockRecorder()
    base = trained(corpus, model=model, epochs=2, backend_hook=base_rec, **extra)
    assert len(base_rec.calls) == 2  # one block per epoch at the default 8 MiB
    for size in (1, 7, 64, 1000):
        rec = BlockRecorder()
        other = trained(corpus, model=model, epochs=2, block_bytes=size, backend_hook=rec, **extra)
        assert len(rec.calls) > 4, size  # the small blocks were used
        for epoch in (0, 1):
            assert rec.sentences(epoch) == base_rec.sentences(epoch), size
        assert np.array_equal(other.input, base.input) and np.array_equal(other.output, base.output), size


# ---- resume --------------------------------------------------------------------------

def run_until_interrupted(corpus, tmp_path, recorder, callbacks=(), **kw):
    """Trained in 64-byte blocks until `recorder` stops it; (the model, its saved copy loaded)."""
    model = Word2Vec(callbacks=callbacks, block_bytes=64, backend_hook=recorder, **dict(SETTINGS, epochs=2, **kw))
    model.build_vocab(corpus)
    with pytest.raises(KeyboardInterrupt):
        model.train(corpus)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the trainer's handler is gone
    assert not model.finished and model.words_done <= model.words_planned
    path = tmp_path / "stopped.model"
    model_format.save_model(path, model)
    return model, Word2Vec.load(path, progress=False)


@pytest.fixture(scope="module")
def uninterrupted(corpus):
    recorder = BlockRecorder()
    return trained(corpus, epochs=2, block_bytes=64, backend_hook=recorder), recorder


def where(recorder, which):
    """Chunk numbers (1-based) of interesting interruption points."""
    n0 = sum(c["epoch"] == 0 for c in recorder.calls)
    return {"early": 3, "middle-epoch-1": n0 // 2, "last-of-epoch-1": n0, "first-of-epoch-2": n0 + 1,
            "middle-epoch-2": n0 + (len(recorder.calls) - n0) // 2, "last": len(recorder.calls)}[which]


@pytest.mark.parametrize("kind", ["before", "during"])
@pytest.mark.parametrize("at", ["early", "middle-epoch-1", "last-of-epoch-1", "first-of-epoch-2",
                                "middle-epoch-2", "last"])
def test_resume_after_ctrl_c_is_bit_identical(corpus, tmp_path, uninterrupted, kind, at):
    """kind 'before': Ctrl-C between blocks (KeyboardInterrupt instead of the n-th native
    call); 'during': a real SIGINT while the n-th native call runs (Python sees it as the
    call returns; the trainer must finish counting that block before stopping)."""
    full, full_rec = uninterrupted
    n = where(full_rec, at)
    if kind == "before" and at == "last":
        n = len(full_rec.calls)  # stop before the very last block
    recorder = BlockRecorder(**({"stop_before": n} if kind == "before" else {"signal_after": n}))
    stopped, loaded = run_until_interrupted(corpus, tmp_path, recorder)
    trained_blocks = n - 1 if kind == "before" else n
    assert len(recorder.calls) == trained_blocks
    # the saved position is where the trained blocks end
    assert loaded.words_done == stopped.words_done and loaded.epoch_position == stopped.epoch_position
    assert np.array_equal(loaded.input, stopped.input) and np.array_equal(loaded.output, stopped.output)
    resumed_rec = BlockRecorder()
    loaded.block_bytes, loaded.backend_hook = 64, resumed_rec
    stats = loaded.train(corpus)
    # the resumed run trains exactly the blocks the stopped run had left
    assert len(resumed_rec.calls) == len(full_rec.calls) - trained_blocks
    assert [c["first_position"] for c in resumed_rec.calls] == \
        [c["first_position"] for c in full_rec.calls[trained_blocks:]]
    assert stats["finished"] and loaded.finished
    assert np.array_equal(loaded.input, full.input), np.abs(loaded.input - full.input).max()
    assert np.array_equal(loaded.output, full.output)
    assert [h["epoch"] for h in loaded.history] == [1, 2]


def test_resume_with_another_block_size(corpus, tmp_path, uninterrupted):
    """Stopped with 64-byte blocks, resumed with 100-byte ones: the resumed run starts
    inside a block (at the first sentence not trained) and still ends bit-identical."""
    full, full_rec = uninterrupted
    recorder = BlockRecorder(signal_after=where(full_rec, "middle-epoch-1"))
    _, loaded = run_until_interrupted(corpus, tmp_path, recorder)
    resumed_rec = BlockRecorder()
    loaded.block_bytes, loaded.backend_hook = 100, resumed_rec
    loaded.train(corpus)
    assert resumed_rec.calls[0]["first_position"] == recorder.calls[-1]["first_position"] + \
        sum(map(len, recorder.calls[-1]["sentences"]))
    assert np.array_equal(loaded.input, full.input) and np.array_equal(loaded.output, full.output)


def test_resume_without_saving_and_from_a_callback(corpus, tmp_path, uninterrupted):
    full, _ = uninterrupted

    def stop_after_first_epoch(model, stats):
        if stats["epoch"] == 1:
            raise KeyboardInterrupt

    model = Word2Vec(callbacks=[stop_after_first_epoch], block_bytes=64, **dict(SETTINGS, epochs=2))
    model.build_vocab(corpus)
    with pytest.raises(KeyboardInterrupt):
        model.train(corpus)
    assert model.epochs_done == 1 and model.words_done == model.vocab.total and not model.finished
    path = tmp_path / "after-epoch-1.model"
    model.save(path)  # no extension: the native format
    loaded = Word2Vec.load(path, progress=False)
    loaded.block_bytes = 64
    model.train(corpus)   # the same object continues, too
    loaded.train(corpus)
    for m in (model, loaded):
        assert np.array_equal(m.input, full.input) and np.array_equal(m.output, full.output)
        assert [h["epoch"] for h in m.history] == [1, 2]


def test_finished_model_trains_a_new_schedule(corpus):
    """train() on a finished model starts a new schedule at alpha (not a resume)."""
    model = trained(corpus, epochs=1)
    before = model.input.copy()
    stats = model.train(corpus, epochs=2)
    assert stats["finished"] and model.epochs_planned == 2 and model.words_planned == 2 * model.vocab.total
    assert not np.array_equal(before, model.input)
    assert [h["epoch"] for h in model.history] == [1, 1, 2]


def test_max_vocab_size_undercount_trains_every_epoch_fully(tmp_path):
    """max_vocab_size pruning undercounts a word dropped early and seen again later, so
    the corpus holds more vocabulary words than vocab.total: every epoch must still train
    the whole corpus from its start (no words of the next epoch skipped as if resuming)."""
    lines = ["x y"] + [" ".join(f"r{i}_{j}" for j in range(10)) for i in range(100)] + ["x y"] * 30 + ["a b"] * 20
    path = write_text(tmp_path / "c.txt", lines)
    recorder = BlockRecorder()
    model = Word2Vec(backend_hook=recorder, **dict(SETTINGS, min_count=2, epochs=3, max_vocab_size=50, sample=0))
    model.build_vocab(path)
    assert dict(zip(model.vocab.words, model.vocab.counts)) == {"x": 30, "y": 30, "a": 20, "b": 20}
    model.train(path)
    assert [c["epoch"] for c in recorder.calls] == [0, 1, 2]
    assert all(c["first_position"] == 0 and sum(map(len, c["sentences"])) == 102 for c in recorder.calls)
    assert [h["words"] for h in model.history] == [102] * 3 and model.finished
    # the learning rate of each epoch starts where the schedule says
    assert [c["words_done"] for c in recorder.calls] == [0, 100, 200]


# ---- callbacks -----------------------------------------------------------------------

def test_callbacks_once_per_epoch_with_stats(corpus):
    seen, seen_train = [], []
    model = Word2Vec(callbacks=[lambda m, s: seen.append((m, dict(s)))], **dict(SETTINGS, epochs=3))
    model.build_vocab(corpus)
    stats = model.train(corpus, callbacks=[lambda m, s: seen_train.append(s["epoch"])])
    assert [s["epoch"] for _, s in seen] == [1, 2, 3] and seen_train == [1, 2, 3]
    assert all(m is model for m, _ in seen)
    for _, s in seen:
        assert set(s) >= {"epoch", "words", "words_kept", "seconds", "loss"}
        assert s["words"] == model.vocab.total
        assert 0 < s["words_kept"] < s["words"]  # sample=1e-2 drops some frequent words
        assert math.isfinite(s["loss"]) and 0 < s["loss"] < 5 and s["seconds"] >= 0
    assert [s for _, s in seen] == model.history
    assert stats["words"] == 3 * model.vocab.total and stats["finished"]
    assert stats["corpus_words"] == 3 * (model.vocab.total + 2)  # rare1, rare2 are read but not trained


def test_sigint_handler_second_ctrl_c_and_other_threads(corpus):
    """The trainer's SIGINT handler lives only while train() runs; a second Ctrl-C stops at
    once (inside the block's bookkeeping, so no clean resume point is promised); train()
    in a thread other than the main one works without touching signals."""
    import threading

    model = trained(corpus)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def twice(backend):
        real = backend.train_block

        def train_block(*args, **kwargs):
            real(*args, **kwargs)
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)   # the second one raises from the handler
            raise AssertionError("not reached")
        backend.train_block = train_block
        return backend

    with pytest.raises(KeyboardInterrupt):
        Word2Vec(corpus, backend_hook=twice, **SETTINGS)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("model", trained(corpus)))
    thread.start()
    thread.join()
    assert np.array_equal(out["model"].input, model.input)

    # a handler of the caller's own is left in place (and sees the Ctrl-C itself)
    seen = []
    previous = signal.signal(signal.SIGINT, lambda *a: seen.append("mine"))
    try:
        trained(corpus, backend_hook=BlockRecorder(signal_after=1))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == ["mine"]
