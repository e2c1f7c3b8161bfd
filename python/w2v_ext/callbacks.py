"""The epoch callbacks of a train() call, of two kinds, in the order given:

- ours: a callable, called as callback(model, epoch_stats) after every epoch;
- gensim's: an object with any of CallbackAny2Vec's methods on_train_begin(model),
  on_epoch_begin(model), on_epoch_end(model), on_train_end(model) (a subclass of
  gensim.models.callbacks.CallbackAny2Vec or of the one here, or any object with such
  methods; the methods it lacks are skipped).
"""
from __future__ import annotations

from typing import Sequence

GENSIM_METHODS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")


class CallbackAny2Vec:
    """gensim's callback base class (gensim.models.callbacks.CallbackAny2Vec), for
    scripts that subclass it without gensim: override the methods you need."""

    def on_train_begin(self, model) -> None:
        pass

    def on_epoch_begin(self, model) -> None:
        pass

    def on_epoch_end(self, model) -> None:
        pass

    def on_train_end(self, model) -> None:
        pass


def is_gensim_style(callback) -> bool:
    """Whether `callback` has any of gensim's callback methods."""
    return any(callable(getattr(callback, method, None)) for method in GENSIM_METHODS)


class Callbacks:
    """The callbacks of one train() call."""

    def __init__(self, callbacks: Sequence):
        for callback in callbacks:
            if not is_gensim_style(callback) and not callable(callback):
                raise TypeError(f"a callback must be callable as callback(model, epoch_stats) or have gensim's "
                                f"methods ({', '.join(GENSIM_METHODS)}), got {callback!r}")
        self.callbacks = list(callbacks)

    def train_begin(self, model) -> None:
        self._call_gensim("on_train_begin", model)

    def epoch_begin(self, model) -> None:
        self._call_gensim("on_epoch_begin", model)

    def epoch_end(self, model, stats: dict) -> None:
        for callback in self.callbacks:
            if not is_gensim_style(callback):
                callback(model, stats)
            elif callable(getattr(callback, "on_epoch_end", None)):
                callback.on_epoch_end(model)

    def train_end(self, model) -> None:
        self._call_gensim("on_train_end", model)

    def _call_gensim(self, method: str, model) -> None:
        for callback in self.callbacks:
            hook = getattr(callback, method, None)
            if is_gensim_style(callback) and callable(hook):
                hook(model)
