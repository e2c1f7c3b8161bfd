"""Where the corpus trainer's blocks train: the CPU trainer on the model's own tables, or
the CUDA trainer, which keeps copies of them on the device for the whole call to
train() and copies them back when it ends (also when it is interrupted).

A backend has one interface: train_block(ids, ends, epoch, position, words_done,
words_total, last) -> BlockStats (with last=False, the stats of blocks before it: a GPU
trains on while the next block is read) and flush() -> the stats not reported yet;
pull() makes the host tables current and push() trains on
from them (a data-parallel sync averages the host tables in between); close() ends the
call. `block_bytes` is the corpus text it wants per block, `encode_threads` the reader's
threads per block, `tables` the model's host tables.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

from . import _native
from .divergence import check_loss
from .settings import Settings, parse_device

LOSS_EVERY = 64  # the loss shown in progress is measured on every 64th centre word


@dataclasses.dataclass(frozen=True)
class BlockStats:
    """What training one block gave."""
    loss: float          # summed over the measured centres' terms (see LOSS_EVERY)
    loss_terms: int
    words_kept: int      # after subsampling
    alpha: float         # the learning rate at the block's last sentence

    @property
    def mean_loss(self) -> Optional[float]:
        return self.loss / self.loss_terms if self.loss_terms else None


def native_settings(kernels, settings: Settings, seed: int, alpha: float):
    """The kernels' TrainSettings at this rank's `seed` and starting `alpha` (a
    data-parallel rank's own; min_alpha scales with alpha)."""
    s = settings
    return kernels.TrainSettings(architecture=s.architecture, window=s.window, negative=s.negative,
                                 alpha=alpha, cbow_mean=s.cbow_mean, shared_negatives=s.shared_negatives,
                                 seed=seed, loss_every=LOSS_EVERY, min_alpha=end_alpha(s, alpha),
                                 shrink_windows=s.shrink_windows)


def end_alpha(settings: Settings, start: float) -> float:
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

    def __init__(self, model, keep, accept, alias, threads: int, block_bytes: int, seed: int, alpha: float):
        self.model, self.keep, self.accept, self.alias = model, keep, accept, alias
        self.threads, self.block_bytes = threads, block_bytes
        self.native = native_settings(_native.cpu, model.settings, seed, alpha)
        self.last_alpha = alpha   # the rate the last block reached

    @property
    def tables(self):
        return self.model.input_table, self.model.output_table

    def train_block(self, ids, ends, epoch, position, words_done, words_total, last: bool = True) -> BlockStats:
        """Trains the block; its stats. With last=False a backend may report a block's
        stats with a later call or flush() (here they are always complete)."""
        r = _native.cpu.train_block(*self.tables, self.keep, self.accept, self.alias, self.native, ids, ends, epoch,
                                    position, float(words_done), float(words_total), self.threads)
        self.last_alpha = r["alpha"]
        return check_loss(BlockStats(r["loss"], r["loss_terms"], r["words_kept"], r["alpha"]), self.model.settings)

    def flush(self) -> BlockStats:
        """The stats of blocks trained but not reported yet: none here."""
        return BlockStats(0.0, 0, 0, self.last_alpha)

    def pull(self) -> None:
        """Make the model's tables current (they always are here)."""

    def push(self) -> None:
        """Train on from the model's tables (changed in place: nothing to do here)."""

    def close(self) -> None:
        pass


class CudaBackend:
    """Trains on the GPU; the model's tables are updated when close() is called."""

    threads = 1

    def __init__(self, model, keep, accept, alias, device_index: int, block_bytes: int, seed: int, alpha: float):
        cuda = _native.cuda_trainer_module()
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
        self.alpha = self.last_alpha = alpha
        self.min_alpha = end_alpha(model.settings, alpha)
        self.trainer = cuda.DeviceTrainer(input_init=model.input_table, dim=model.settings.dim,
                                          keep_threshold=keep, noise_accept=accept, noise_alias=alias,
                                          settings=native_settings(cuda, model.settings, seed, alpha),
                                          device=device_index)
        self.trainer.upload(*self.tables)

    @property
    def tables(self):
        return self.model.input_table, self.model.output_table

    def train_block(self, ids, ends, epoch, position, words_done, words_total, last: bool = True) -> BlockStats:
        """Queues the block; the stats of every block queued before it, and of this one
        too when `last` (otherwise it trains on while the caller reads the next block,
        and its stats come with the next call or flush())."""
        self.trainer.train_block(ids, ends, epoch, position, float(words_done), float(words_total))
        r = self.trainer.collect(keep_last=not last)
        # the learning rate at the block's last sentence, as the CPU kernel reports it
        last_start = float(words_done) + (float(ends[-2]) if len(ends) > 1 else 0.0)
        self.last_alpha = learning_rate(self.alpha, self.min_alpha, last_start, float(words_total))
        return check_loss(BlockStats(r["loss"], r["loss_terms"], r["words_kept"], self.last_alpha), self.model.settings)

    def flush(self) -> BlockStats:
        """The stats of the blocks queued and not reported yet (waits for them)."""
        r = self.trainer.collect()
        return check_loss(BlockStats(r["loss"], r["loss_terms"], r["words_kept"], self.last_alpha), self.model.settings)

    def pull(self) -> None:
        """Copy the device's tables into the model's (data-parallel averaging)."""
        self.trainer.download(*self.tables)

    def push(self) -> None:
        """Replace the device's tables with the model's (after averaging)."""
        self.trainer.upload(*self.tables)

    def close(self) -> None:
        self.trainer.download(*self.tables)


def make_backend(model, keep, accept, alias, block_bytes: int, *, threads: int, seed: int, alpha: float,
                 device_index: Optional[int] = None):
    """The backend for model.settings.device, at this rank's `threads`, `seed`, starting
    `alpha` and `device_index` (None: the settings' device). The GPU reads 8x bigger
    blocks of corpus text: it wants many sentences per launch."""
    index = parse_device(model.settings.device)
    if index is None:
        return CpuBackend(model, keep, accept, alias, threads, block_bytes, seed, alpha)
    index = index if device_index is None else device_index
    return CudaBackend(model, keep, accept, alias, index, 8 * block_bytes, seed, alpha)
