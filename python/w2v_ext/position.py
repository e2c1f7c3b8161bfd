"""Where a training schedule stands. The model file saves it whole, so a stopped run
resumes exactly where it stopped: the same blocks, learning rates and random draws."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class TrainingPosition:
    """The position in a schedule of `epochs_planned` epochs over the vocabulary's words.
    Epochs are counted apart from words: a corpus may hold more vocabulary words than the
    counts say (max_vocab_size pruning undercounts a word it dropped and saw again), and
    must then neither skip words of the next epoch nor whole epochs."""
    words_done: int = 0        # vocabulary words trained over all epochs (the learning rate's progress)
    words_planned: int = 0     # epochs_planned x the vocabulary's words; 0 before any schedule
    epochs_planned: int = 0
    epochs_done: int = 0
    epoch_position: int = 0    # vocabulary words of the unfinished epoch trained (where a resume starts)

    @classmethod
    def schedule(cls, epochs: int, words_per_epoch: int) -> "TrainingPosition":
        """The start of a new schedule."""
        return cls(words_planned=epochs * words_per_epoch, epochs_planned=epochs)

    @property
    def finished(self) -> bool:
        """Every epoch of the schedule is trained."""
        return self.words_planned > 0 and self.epochs_done >= self.epochs_planned

    def reach(self, epoch: int, position: int, words_per_epoch: int) -> None:
        """`position` vocabulary words of epoch `epoch` (0-based) are trained."""
        self.epoch_position = position
        self.words_done = epoch * words_per_epoch + min(position, words_per_epoch)

    def end_epoch(self, epoch: int, words_per_epoch: int) -> None:
        """Epoch `epoch` is over, however many words it held."""
        self.epochs_done, self.epoch_position = epoch + 1, 0
        self.words_done = min(self.words_planned, (epoch + 1) * words_per_epoch)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict, words_per_epoch: int) -> "TrainingPosition":
        """The position stored in `values` (as_dict's keys, other keys ignored), checked:
        integers >= 0 that agree with each other and with the vocabulary's words per
        epoch. ValueError naming the field otherwise."""
        for field in dataclasses.fields(cls):
            value = values.get(field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"'{field.name}' must be an integer >= 0, got {value!r}")
        p = cls(**{field.name: values[field.name] for field in dataclasses.fields(cls)})
        if p.words_planned != p.epochs_planned * words_per_epoch:
            raise ValueError(f"'words_planned' ({p.words_planned}) must be 'epochs_planned' ({p.epochs_planned}) "
                             f"x the {words_per_epoch} words of the vocabulary's counts")
        if p.words_done > p.words_planned:
            raise ValueError(f"'words_done' ({p.words_done}) exceeds 'words_planned' ({p.words_planned})")
        if p.epochs_done > p.epochs_planned:
            raise ValueError(f"'epochs_done' ({p.epochs_done}) exceeds 'epochs_planned' ({p.epochs_planned})")
        return p
