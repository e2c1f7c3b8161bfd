"""Where the corpus trainer's blocks run: the CPU kernel on the model's own tables, or
the CUDA trainer, which keeps copies of them on the device for the whole call to
train() and copies them back when it ends (also when it is interrupted)."""
from __future__ import annotations

import math
import os

from typing import Optional

import numpy as np

from . import _native
from .settings import DEFAULT_ALPHA, parse_device


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite: training stopped (a learning rate
    or an init range too large, or a model file holding bad weights)."""


def _likely_causes(settings) -> str:
    """The settings that most likely made training diverge, worst first."""
    alpha, default_alpha = settings.start_alpha, DEFAULT_ALPHA[settings.model]
    causes = []
    if alpha > 2 * default_alpha:
        causes.append(f"alpha={alpha:g} is {alpha / default_alpha:.0f}x word2vec.c's {default_alpha:g}: lower it")
    if settings.init_range > 1:
        causes.append(f"init_range={settings.init_range:g} starts the vectors far wider than word2vec.c's 0.5")
    if settings.model == "sg" and settings.shared_negatives and settings.window > 50:
        causes.append(f"window={settings.window} with negatives shared across the window steps each output row "
                      f"by up to {2 * min(settings.window, settings.max_sentence_length)} inputs at once: use "
                      f"per-pair negatives or a smaller window")
    if settings.model == "cbow" and not settings.cbow_mean and settings.window > 20:
        causes.append(f"cbow_mean=False sums up to {2 * settings.window} context vectors: average them or "
                      f"use a smaller window")
    if settings.negative > 100:
        causes.append(f"negative={settings.negative} steps each input vector by that many noise words at once")
    if not causes:
        causes.append(f"the learning rate (alpha={alpha:g}) or init_range ({settings.init_range:g}) too large")
    return "; ".join(causes) + "; or a loaded model file holding bad weights"


def _first_non_finite_row(table: np.ndarray, rows_at_once: int = 1 << 14) -> Optional[int]:
    for start in range(0, len(table), rows_at_once):
        bad = ~np.isfinite(table[start:start + rows_at_once]).all(axis=1)
        if bad.any():
            return start + int(np.argmax(bad))
    return None


def check_loss(stats: dict, settings) -> dict:
    """`stats` of a trained block; TrainingDiverged once its loss is NaN or infinite."""
    if not math.isfinite(stats["loss"]):
        raise TrainingDiverged(f"training diverged (the loss became {stats['loss']}) and stopped without "
                               f"writing NaN vectors: {_likely_causes(settings)}")
    return stats


def check_weights(model, when: str) -> None:
    """TrainingDiverged when either table holds a NaN or infinite value (`when`: 'before
    training' or 'after training')."""
    for name, table in (("input", model.input), ("output", model.output)):
        row = _first_non_finite_row(table)
        if row is not None:
            raise TrainingDiverged(f"the {name} vectors hold NaN or infinite values {when} (row {row}, word "
                                   f"{model.vocab.words[row]!r}): {_likely_causes(model.settings)}")


def native_settings(kernels, model, architecture: int, loss_every: int, seed: Optional[int] = None,
                    alpha: Optional[float] = None):
    """The kernels' TrainSettings; `seed` and `alpha` replace the settings' (a
    data-parallel rank's own stream of random draws and its learning rate, which scales
    min_alpha with it)."""
    s = model.settings
    start = s.start_alpha if alpha is None else alpha
    return kernels.TrainSettings(architecture=architecture, window=s.window, negative=s.negative,
                                 alpha=start, cbow_mean=s.cbow_mean, shared_negatives=s.shared_negatives,
                                 seed=s.seed if seed is None else seed, loss_every=loss_every,
                                 min_alpha=end_alpha(s, start))


def end_alpha(settings, start: float) -> float:
    """The native min_alpha: settings.min_alpha scaled as `start` is, or 0 (word2vec.c's schedule)."""
    if settings.min_alpha is None:
        return 0.0
    return float(settings.min_alpha) * start / settings.start_alpha


def learning_rate(start: float, end: float, words_done: float, words_total: float) -> float:
    """The kernels' linear_learning_rate (w2v_math.h), for reporting."""
    progress = words_done / (words_total + 1.0)
    if end > 0:
        return max(start + (end - start) * progress, end)
    return max(start * (1.0 - progress), start * 1e-4)


class CpuBackend:
    """Trains each block in place on the model's padded tables (Hogwild threads)."""

    encode_threads = 1   # the corpus reader runs beside the training threads: one is plenty

    def __init__(self, model, settings, keep, accept, alias, threads: int, block_bytes: int):
        self.model, self.settings = model, settings
        self.keep, self.accept, self.alias, self.threads = keep, accept, alias, threads
        self.block_bytes = block_bytes

    def train_block(self, ids, ends, epoch, position, words_done, words_total) -> dict:
        m = self.model
        stats = _native.cpu.train_chunk(m.input_table, m.output_table, self.keep, self.accept, self.alias,
                                        self.settings, ids, ends, epoch, position, float(words_done),
                                        float(words_total), self.threads)
        return check_loss(stats, m.settings)

    def pull(self) -> None:
        """Make the model's tables current (they always are here)."""

    def push(self) -> None:
        """Train on from the model's tables (changed in place: nothing to do here)."""

    def close(self) -> None:
        pass


class CudaBackend:
    """Trains on the GPU; the model's tables are updated when close() is called."""

    def __init__(self, model, architecture, loss_every, keep, accept, alias, device_index: int, block_bytes: int,
                 seed: Optional[int] = None, alpha: Optional[float] = None):
        cuda = _native.cuda
        if cuda is None:
            raise RuntimeError("device='cuda' needs the CUDA module, which this build of w2v_ext lacks (no CUDA "
                               "toolkit at build time); reinstall from source on a machine with nvcc")
        if cuda.device_count() <= device_index:
            why = cuda.device_error()
            raise RuntimeError(f"device='cuda:{device_index}': this process sees {cuda.device_count()} CUDA "
                               f"device(s)" + (f" ({why})" if why else ""))
        self.model, self.block_bytes = model, block_bytes
        # the cores are free while the GPU trains: the reader uses them all to keep up
        self.encode_threads = os.cpu_count() or 1
        self.alpha = model.settings.start_alpha if alpha is None else alpha
        self.min_alpha = end_alpha(model.settings, self.alpha)
        settings = native_settings(cuda, model, architecture, loss_every, seed, self.alpha)
        self.trainer = cuda.DeviceTrainer(input_init=model.input_table, dim=model.settings.dim,
                                          keep_threshold=keep, noise_accept=accept, noise_alias=alias,
                                          settings=settings, device=device_index)
        self.trainer.upload(model.input_table, model.output_table)

    def train_block(self, ids, ends, epoch, position, words_done, words_total) -> dict:
        self.trainer.train_chunk(ids, ends, epoch, position, float(words_done), float(words_total))
        stats = self.trainer.collect()
        # the learning rate at the block's last sentence, as the CPU kernel reports it
        last_start = float(words_done) + (float(ends[-2]) if len(ends) > 1 else 0.0)
        stats["alpha"] = learning_rate(self.alpha, self.min_alpha, last_start, float(words_total))
        return check_loss(stats, self.model.settings)

    def pull(self) -> None:
        """Copy the device's tables into the model's (data-parallel averaging)."""
        self.trainer.download(self.model.input_table, self.model.output_table)

    def push(self) -> None:
        """Replace the device's tables with the model's (after averaging)."""
        self.trainer.upload(self.model.input_table, self.model.output_table)

    def close(self) -> None:
        self.trainer.download(self.model.input_table, self.model.output_table)


def make_backend(model, architecture: int, loss_every: int, keep, accept, alias, block_bytes: int, *,
                 threads: Optional[int] = None, seed: Optional[int] = None, alpha: Optional[float] = None,
                 device_index: Optional[int] = None):
    """The backend for model.settings.device. The GPU reads 8x bigger blocks of corpus
    text: it wants many sentences per launch. `threads`, `seed`, `alpha` and
    `device_index` replace the settings' (a data-parallel rank's share of the cores, its
    own random draws, its learning rate, cuda:LOCAL_RANK)."""
    index = parse_device(model.settings.device)
    if index is None:
        settings = native_settings(_native.cpu, model, architecture, loss_every, seed, alpha)
        return CpuBackend(model, settings, keep, accept, alias, threads or model.settings.thread_count, block_bytes)
    index = index if device_index is None else device_index
    return CudaBackend(model, architecture, loss_every, keep, accept, alias, index, 8 * block_bytes, seed, alpha)
