"""Data-parallel training on torch.distributed: one process per rank (and GPU), one model.

    torchrun --nproc-per-node 2 -m w2v_ext train corpus.txt -o vectors.bin --sync-words 1000000

DataParallel is a world of N ranks (see world.py) and holds the collectives the trainer
needs; the epoch loop itself is epochs.py's, the same as for one process.

- Each rank holds a full copy of both tables and trains Hogwild on its own shard of the
  corpus (shard.py); syncs average the tables (periodic model averaging).
- The vocabulary: each rank counts its shard; the counts are gathered (all_gather_object)
  and summed, and every rank builds the same Vocabulary from them (min_count and
  max_final_vocab applied after summing: the vocabulary of one process). With
  max_vocab_size, each rank prunes its own count as word2vec.c does, so a word pruned on
  one rank loses those counts there.
- Random draws: rank r keys its draws with its own seed (rank 0 keeps the settings').
- The learning rate: averaging R replicas divides every update by R, so each rank trains
  at alpha x R (Settings.dist_alpha_scale changes the factor).
- A sync all-reduces a status vector (still training, stop asked, failure, words, corpus
  words, loss, loss terms, kept words), then the tables (SUM, divided by the world size;
  the padded tables are shared with torch, zero-copy on the CPU).
- Failures: a rank whose reading or training raises tells the others at their next sync
  (or at the vocabulary gather), and every rank raises DistributedError("rank 1 failed:
  ..."). A rank that dies or hangs is caught by gloo/NCCL (connection closed) or by the
  collective timeout (`timeout`, the CLI's --dist-timeout).
- Ctrl-C (SIGINT to every rank): the ranks stop together at the next sync, after
  averaging. Further Ctrl-Cs do not interrupt a collective (a rank stuck there ends at
  the timeout, or when torchrun kills it).

The process group is started from torchrun's environment (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT, LOCAL_RANK) with gloo for the CPU trainer and NCCL for the GPU
trainer (rank r on cuda:LOCAL_RANK). A process group the caller already started is used
as it is. Importing this module does not import torch; starting a run does.
"""
from __future__ import annotations

import atexit
import datetime
import os
import time
from typing import Callable, Optional, Sequence

import numpy as np

from .corpus import Corpus
from .shard import CorpusShard
from .vocab import Vocabulary, count_words, counted_words, merge_counted

DEFAULT_TIMEOUT = 300.0   # seconds a collective waits for the other ranks
ENVIRONMENT = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")

# the status vector all-reduced at every sync (sums over the ranks)
ACTIVE, STOP, FAILED, WORDS, CORPUS_WORDS, LOSS, TERMS, KEPT = range(8)
STATUS_SIZE = 8


class DistributedError(RuntimeError):
    """A rank of a distributed run failed, or a collective did not complete."""


def launched() -> bool:
    """True when the environment is a multi-process torchrun launch (WORLD_SIZE > 1)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


_current: Optional["DataParallel"] = None


def data_parallel(device: str = "cpu", timeout: float = DEFAULT_TIMEOUT) -> "DataParallel":
    """This process's DataParallel, created (the process group started) on first use."""
    global _current
    if _current is None:
        _current = DataParallel(device, timeout)
        atexit.register(shutdown)
    return _current


def shutdown() -> None:
    """Destroy the process group, if this module started it (safe to call twice)."""
    global _current
    dp, _current = _current, None
    if dp is not None and dp.owns_group:
        import torch.distributed as dist
        if dist.is_initialized():
            dist.destroy_process_group()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class DataParallel:
    """One rank's side of a data-parallel run: a world of `size` ranks (see world.py)."""

    stops_together = True   # a stop waits for the next sync: every rank stops there

    def __init__(self, device: str = "cpu", timeout: float = DEFAULT_TIMEOUT):
        try:
            import torch
            import torch.distributed as dist
        except ImportError as e:
            raise RuntimeError("distributed training needs PyTorch (torch.distributed): pip install "
                               "'w2v_ext[torch]'") from e
        if not dist.is_available():
            raise RuntimeError("distributed training needs a PyTorch build with torch.distributed")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"the distributed timeout must be > 0 seconds, got {timeout!r}")
        self.torch, self.dist, self.timeout = torch, dist, float(timeout)
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        cuda = device != "cpu"   # 'cuda' (Settings.validate refuses 'cuda:N' here): rank r on cuda:LOCAL_RANK
        self.owns_group = not dist.is_initialized()
        if self.owns_group:
            missing = [name for name in ENVIRONMENT if name not in os.environ]
            if missing:
                raise RuntimeError(f"distributed training: {', '.join(missing)} not set; launch with torchrun, "
                                   f"e.g. torchrun --nproc-per-node 2 -m w2v_ext train ...")
            if cuda:
                torch.cuda.set_device(self.local_rank)
            dist.init_process_group("nccl" if cuda else "gloo", timeout=datetime.timedelta(seconds=self.timeout))
        self.backend = str(dist.get_backend())
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.tensor_device = torch.device(f"cuda:{self.local_rank}") if self.backend == "nccl" else None
        self.device_index = self.local_rank if cuda else None
        self.syncs, self.sync_seconds, self.sync_bytes = 0, 0.0, 0   # weight averages so far, their time and size

    def __repr__(self):
        return f"DataParallel(rank {self.rank} of {self.size}, {self.backend})"

    # ---- this rank's share ------------------------------------------------------
    def shard(self, corpus: Corpus) -> CorpusShard:
        return CorpusShard(corpus, self.rank, self.size)

    def threads(self, settings) -> int:
        """settings.threads, or this machine's cores shared by its ranks for 0."""
        return settings.threads or max(1, (os.cpu_count() or 1) // max(1, self.local_world))

    def rank_alpha(self, settings) -> float:
        """Each rank's starting learning rate: alpha x dist_alpha_scale (default: the
        world size). Averaging R replicas divides every update by R; scaling alpha by R
        keeps the averaged model's step per word that of one process."""
        scale = self.size if settings.dist_alpha_scale is None else settings.dist_alpha_scale
        return settings.start_alpha * float(scale)

    def rank_seed(self, seed: int) -> int:
        """This rank's seed for the kernels' random draws (rank 0 keeps `seed`)."""
        return (int(seed) + self.rank * 0x9E3779B97F4A7C15) % (1 << 64)

    def sync_words(self, settings) -> int:
        return settings.sync_words

    # ---- collectives ------------------------------------------------------------
    def _collective(self, what: str, call: Callable):
        try:
            return call()
        except DistributedError:
            raise
        except Exception as e:
            detail = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
            raise DistributedError(
                f"rank {self.rank}: {what} with the other ranks failed (another rank probably failed or was "
                f"stopped: see its output; or it did not get there within the {self.timeout:g}s timeout, "
                f"--dist-timeout): {detail}") from e

    def _tensor(self, array: np.ndarray):
        x = self.torch.from_numpy(array)
        return x if self.tensor_device is None else x.to(self.tensor_device)

    def gather(self, compute: Callable, what: str) -> list:
        """compute() on every rank, its results gathered in rank order; if it raised on
        any rank, every rank raises DistributedError naming the ranks and their errors."""
        own = None
        try:
            payload = (True, compute())
        except Exception as e:
            own, payload = e, (False, _describe(e))
        out: list = [None] * self.size
        self._collective(what, lambda: self.dist.all_gather_object(out, payload))
        failed = [f"rank {r} failed: {p[1]}" for r, p in enumerate(out) if not p[0]]
        if failed:
            raise DistributedError("; ".join(failed)) from own
        return [p[1] for p in out]

    def agree(self, check: Callable[[], None], what: str = "check") -> None:
        """Run check() on every rank; if it raised on any, every rank raises."""
        self.gather(check, what)

    def build_vocabulary(self, corpus: Corpus, min_count: int, max_vocab_size: Optional[int],
                         max_final_vocab: Optional[int], threads: int) -> Vocabulary:
        """Count this rank's shard, gather every rank's counts and build the same
        vocabulary on every rank."""
        def count():
            return counted_words(count_words(self.shard(corpus), max_vocab_size, threads))

        parts = self.gather(count, "the vocabulary gather")
        return merge_counted(parts, min_count, max_final_vocab, what=repr(corpus))

    def broadcast(self, tables: Sequence[np.ndarray]) -> None:
        """Make every rank's tables rank 0's."""
        for table in tables:
            x = self._tensor(table)
            self._collective("the weight broadcast", lambda: self.dist.broadcast(x, src=0))
            if self.tensor_device is not None:
                self.torch.from_numpy(table).copy_(x)

    def sync(self, status: np.ndarray, backend) -> np.ndarray:
        """All-reduce the status vector, then average the backend's tables in place.
        Returns the summed status; raises DistributedError if a rank reported a failure."""
        start = time.perf_counter()
        backend.pull()
        summed = self._tensor(np.asarray(status, dtype=np.float64).copy())
        self._collective("a sync", lambda: self.dist.all_reduce(summed))
        total = summed.cpu().numpy()
        if total[FAILED] > 0:
            self.gather(lambda: None, "the failure report")
            raise DistributedError("a rank failed without a message")  # not reached: gather raises
        tables = backend.tables
        for table in tables:
            x = self._tensor(table)
            self._collective("a weight average", lambda: self.dist.all_reduce(x))
            x.div_(self.size)
            if self.tensor_device is not None:
                self.torch.from_numpy(table).copy_(x)
        backend.push()
        self.syncs += 1
        self.sync_seconds += time.perf_counter() - start
        self.sync_bytes = sum(table.nbytes for table in tables)
        return total

    def fail(self, error: BaseException) -> None:
        """This rank's training raised `error`: tell the others at their next sync, then
        raise DistributedError here too (as they do)."""
        status = np.zeros(STATUS_SIZE)
        status[FAILED] = 1
        try:
            summed = self._tensor(status)
            self._collective("a sync", lambda: self.dist.all_reduce(summed))
        except DistributedError:
            raise DistributedError(f"rank {self.rank} failed: {_describe(error)}") from error

        def report():
            raise error
        self.gather(report, "the failure report")
