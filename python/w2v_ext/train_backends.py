"""Where the corpus trainer's blocks train: the CPU trainer (_w2v_cpu.Trainer), in place
on the model's own tables, or the CUDA trainer (a CUDA module's Trainer), on copies of
them on the device for the whole call to train(), copied back when it ends (also when
it is interrupted).

Both native trainers have one interface: train_block(...) trains a block (a GPU queues
it), collect(keep_last) gives the stats of the blocks trained since the last call (a
native BlockStats: loss, loss_terms, words_kept and the learning rate reached, alpha),
download / upload copy the tables out and in. A Backend is one of them with the model
it trains, as the epoch loop uses it.
"""
from __future__ import annotations

import os
from typing import Optional

from . import _native
from .divergence import check_loss
from .settings import Settings, parse_device

LOSS_EVERY = 64  # the loss shown in progress is measured on every 64th centre word


class Backend:
    """A native trainer and the model it trains. `threads` are its training threads,
    `encode_threads` the corpus reader's threads per block, `block_bytes` the corpus text
    it wants per block; `tables` are the model's host tables."""

    def __init__(self, model, trainer, *, threads: int, encode_threads: int, block_bytes: int):
        self.model, self.trainer = model, trainer
        self.threads, self.encode_threads, self.block_bytes = threads, encode_threads, block_bytes

    @property
    def tables(self):
        return self.model.input_table, self.model.output_table

    def train_block(self, ids, ends, epoch, position, words_done, words_total, last: bool = True):
        """Trains the block; the stats of the blocks trained since the last report. With
        last=False a GPU's block trains on while the caller reads the next one, and its
        stats come with the next call or flush()."""
        self.trainer.train_block(ids, ends, epoch, position, float(words_done), float(words_total))
        return self.flush(keep_last=not last)

    def flush(self, keep_last: bool = False):
        """The stats of the blocks trained and not reported yet (waits for them)."""
        return check_loss(self.trainer.collect(keep_last=keep_last), self.model.settings)

    def pull(self) -> None:
        """Make the model's tables current (a data-parallel sync averages them)."""
        self.trainer.download(*self.tables)

    def push(self) -> None:
        """Train on from the model's tables (after the average)."""
        self.trainer.upload(*self.tables)

    def close(self) -> None:
        self.pull()


def native_settings(kernels, settings: Settings, seed: int, alpha: float):
    """The kernels' TrainSettings at this rank's `seed` and starting `alpha` (a
    data-parallel rank's own; the end rate scales with alpha, 0 is word2vec.c's schedule)."""
    s = settings
    min_alpha = s.end_alpha * alpha / s.start_alpha
    return kernels.TrainSettings(architecture=s.architecture, window=s.window, negative=s.negative,
                                 alpha=alpha, cbow_mean=s.cbow_mean, shared_negatives=s.shared_negatives,
                                 seed=seed, loss_every=LOSS_EVERY, min_alpha=min_alpha,
                                 shrink_windows=s.shrink_windows)


def cuda_trainers(device_index: int):
    """The module whose Trainer trains on cuda:device_index; RuntimeError saying why not."""
    cuda = _native.cuda_trainer_module()
    if cuda is None:
        raise RuntimeError("device='cuda' needs the CUDA module, which this build of w2v_ext lacks (no CUDA "
                           "toolkit at build time); reinstall from source on a machine with nvcc")
    if cuda.device_count() <= device_index:
        why = cuda.device_error()
        raise RuntimeError(f"device='cuda:{device_index}': this process sees {cuda.device_count()} CUDA "
                           f"device(s)" + (f" ({why})" if why else ""))
    return cuda


def make_backend(model, keep, accept, alias, block_bytes: int, *, threads: int, seed: int, alpha: float,
                 device_index: Optional[int] = None) -> Backend:
    """The backend for model.settings.device, at this rank's `threads`, `seed`, starting
    `alpha` and `device_index` (None: the settings' device). The GPU reads 8x bigger
    blocks of corpus text (it wants many sentences per launch) and the reader uses every
    core to keep up, as they are free while the GPU trains."""
    index = parse_device(model.settings.device)
    tables = dict(input=model.input_table, output=model.output_table, dim=model.settings.dim, keep_threshold=keep,
                  noise_accept=accept, noise_alias=alias)
    if index is None:
        trainer = _native.cpu.Trainer(**tables, settings=native_settings(_native.cpu, model.settings, seed, alpha),
                                      threads=threads)
        return Backend(model, trainer, threads=threads, encode_threads=1, block_bytes=block_bytes)
    index = index if device_index is None else device_index
    cuda = cuda_trainers(index)
    trainer = cuda.Trainer(**tables, settings=native_settings(cuda, model.settings, seed, alpha), device=index)
    return Backend(model, trainer, threads=1, encode_threads=os.cpu_count() or 1, block_bytes=8 * block_bytes)
