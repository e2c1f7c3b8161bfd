"""Training that diverges stops at once, naming the setting that most likely made it:
the loss of every block and the weights before and after training must be finite."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .settings import DEFAULT_ALPHA


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


def check_loss(stats, settings):
    """`stats` (BlockStats) of a trained block; TrainingDiverged once its loss is NaN or infinite."""
    if not math.isfinite(stats.loss):
        raise TrainingDiverged(f"training diverged (the loss became {stats.loss}) and stopped without "
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
