"""A training run as the command line does it, for `train` and `word2vec` alike: check
the outputs, count (or resume), train, save what was trained also when stopped by a
signal, and report."""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import time
from typing import Dict, List, Optional, Tuple

from .. import interrupts
from ..settings import Settings
from .errors import CommandError
from .train_outputs import check_outputs, output_kind

# the job's attributes naming files it writes, in the order they are checked
OUTPUTS = ("output", "save_model", "save_vocab", "curve")


@dataclasses.dataclass
class TrainJob:
    """What to train on and which files to write; `arguments` names each file's option
    as the command line spells it (for messages)."""
    corpus: List[str]
    output: Optional[str]           # None: count (or read) the vocabulary only
    arguments: Dict[str, str]
    output_format: Optional[str] = None   # bin, txt or model; None: the output's extension says
    c_text: bool = False            # text output as word2vec.c prints it (see write_word2vec_format)
    save_model: Optional[str] = None
    save_vocab: Optional[str] = None
    read_vocab: Optional[str] = None      # word2vec.c's vocabulary file, instead of counting the corpus
    resume: Optional[str] = None
    curve: Optional[str] = None
    progress: bool = True           # the progress line while training
    report: bool = True             # the lines saying what was counted, trained and written
    distributed: bool = False
    dist_timeout: float = 300.0
    rank: Optional[int] = None      # this process's rank, once a distributed run has started

    def outputs(self) -> List[Tuple[str, str]]:
        """(argument, path) of every file this job writes."""
        return [(self.arguments[attr], getattr(self, attr)) for attr in OUTPUTS if getattr(self, attr)]


def run_training(job: TrainJob, settings: Settings) -> int:
    """Train as `job` says with `settings` (or the resumed model's); the exit status."""
    from .. import distributed
    wanted = job.distributed or distributed.launched()
    settings.validate(distributed=wanted)   # before any work (a resumed model's own settings win later)
    with _library_notices(shown=job.report):
        if not wanted:
            return _train_here(job, settings, None)
        dp = distributed.data_parallel(settings.device, job.dist_timeout)   # starts the process group
        job.rank = dp.rank
        try:
            return _train_here(job, settings, dp)
        finally:
            distributed.shutdown()


@contextlib.contextmanager
def _library_notices(shown: bool):
    """The package's warnings (a piped corpus being copied) on stderr, or, quiet, only its
    errors; the logger's level is restored after."""
    package_logger = logging.getLogger("w2v_ext")
    level = package_logger.level
    if not shown:
        package_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        package_logger.setLevel(level)


def _check_outputs(job: TrainJob) -> None:
    if job.read_vocab and not job.resume and not os.path.isfile(job.read_vocab):
        raise CommandError(f"{job.arguments['read_vocab']}: vocabulary file {job.read_vocab} does not exist")
    check_outputs(job.outputs(), job.corpus)
    if job.output:
        output_kind(job.output, job.output_format, job.arguments["output"])
    if job.curve:
        from .plot_command import check_image_format
        check_image_format(job.curve, job.arguments["curve"])


def _train_here(job: TrainJob, settings: Settings, dp) -> int:
    """Train in this process: alone (dp None) or as one rank of a distributed run (only
    rank 0 checks and writes the outputs and prints)."""
    from ..trainer import Word2Vec
    rank0 = dp is None or dp.rank == 0

    def check_outputs_here():
        if rank0:
            _check_outputs(job)

    if dp is None:
        check_outputs_here()
    else:   # every rank fails together, with rank 0's message
        dp.agree(check_outputs_here, "the output checks")
    records: List[dict] = []
    corpus = job.corpus[0] if len(job.corpus) == 1 else job.corpus
    progress = job.progress and rank0
    if job.resume:
        model = Word2Vec.load(job.resume, progress=progress)
        model.distributed, model.dist_timeout = dp is not None, job.dist_timeout
    else:
        model = Word2Vec(progress=progress, distributed=dp is not None, dist_timeout=job.dist_timeout,
                         **dataclasses.asdict(settings))
    reporting = job.report and rank0
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if reporting else (lambda msg: None)
    start = time.perf_counter()
    if dp is not None:
        log(f"distributed: {dp.size} processes ({dp.backend}), weights averaged every "
            f"{model.settings.sync_words:,} words per process")
    if not job.resume:
        _vocabulary(model, job, corpus, rank0, log)
    if not job.output:
        return 0
    interrupted = None
    try:
        stats = model.train(corpus, block_callbacks=[lambda m, r: records.append(r)] if job.curve else ())
    except KeyboardInterrupt as e:   # Ctrl-C, SIGTERM or SIGHUP: keep what was trained
        interrupted = e
        stats = None
    if rank0:
        _save(model, job, log)
    if job.curve and records and rank0:
        from ..plot import plot_training_curve
        plot_training_curve(records, job.curve)
        log(f"wrote {job.curve}")
    if interrupted is not None:
        log(f"interrupted at {100 * model.words_done / max(model.words_planned, 1):.1f}% "
            f"({interrupts.signal_name(interrupted)}): saved what was trained"
            + (f"; resume with --resume {job.save_model}" if job.save_model else ""))
        return interrupts.exit_status(interrupted)
    where = "" if dp is None else f" on {dp.size} processes"
    log(f"trained {stats['corpus_words']} words{where} in {stats['seconds']:.2f}s "
        f"({stats['words_per_s'] / 1e6:.3f}M words/s); total {time.perf_counter() - start:.2f}s")
    if dp is not None:
        log(f"syncs: {dp.syncs} weight averages of {dp.sync_bytes / 1e6:.1f} MB, {dp.sync_seconds:.2f}s on rank 0 "
            f"(waiting for the other ranks included)")
    return 0


def _vocabulary(model, job: TrainJob, corpus, rank0: bool, log) -> None:
    """Count the corpus, or read --read-vocab's file; write --save-vocab's."""
    from ..vocab_file import read_vocab_file, write_vocab_file
    start = time.perf_counter()
    if job.read_vocab:
        s = model.settings
        model.set_vocabulary(read_vocab_file(job.read_vocab, s.min_count, s.max_final_vocab))
        source = f"read from {job.read_vocab}"
    else:
        model.build_vocab(corpus)
        source = "counted"
    log(f"vocabulary: {len(model.vocab)} words, {model.vocab.total} occurrences, {source} "
        f"({time.perf_counter() - start:.2f}s)")
    if job.save_vocab and rank0:
        write_vocab_file(job.save_vocab, model.vocab.words, model.vocab.counts)
        log(f"wrote {job.save_vocab}")


def _save(model, job: TrainJob, log) -> None:
    from ..model_format import save_model
    from ..word2vec_format import write_word2vec_format
    kind = output_kind(job.output, job.output_format, job.arguments["output"])
    if kind == "native":
        save_model(job.output, model)
    else:
        write_word2vec_format(job.output, model.vocab.words, model.input, binary=kind == "binary",
                              c_text=job.c_text)
    log(f"wrote {job.output}")
    if job.save_model:  # always the native format, whatever its extension
        save_model(job.save_model, model)
        log(f"wrote {job.save_model}")
