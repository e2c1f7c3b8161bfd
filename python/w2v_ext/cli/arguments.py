"""Argument types, and the train command's options made from settings.py's fields."""
from __future__ import annotations

import argparse
import math
from typing import Dict

from ..settings import Choice, Flag, Integer, Number, Option, Real, Settings, flag_of, options


class CommandParser(argparse.ArgumentParser):
    """An argparse parser that refuses the flags of other programs it would misread
    (word2vec.c's -output as -o utput), naming the right spelling: foreign_flags maps
    such a flag to the message."""
    foreign_flags: Dict[str, str] = {}

    def parse_known_args(self, args=None, namespace=None):
        for token in args or ():
            if token == "--":
                break
            message = self.foreign_flags.get(token.split("=", 1)[0])
            if message is not None:
                self.error(message)
        return super().parse_known_args(args, namespace)


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's help ends with its default, except where the default is None: such an
    option has no default value to show (a setting says its default in words instead)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def _read(text: str, kind, wanted: str, accept):
    """text as `kind` (int or float), refused unless accept(value): "expected <wanted>"."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted if kind is int else 'a number'}, got {text!r}")
    if not accept(value):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _read(text, int, "a positive integer", lambda v: v >= 1)


def non_negative_int(text: str) -> int:
    return _read(text, int, "an integer >= 0", lambda v: v >= 0)


def non_negative_float(text: str) -> float:
    return _read(text, float, "a number >= 0", lambda v: v >= 0)   # nan fails; inf is Settings.validate's


def positive_float(text: str) -> float:
    return _read(text, float, "a number > 0", lambda v: v > 0)


def finite_float(text: str) -> float:
    return _read(text, float, "a finite number", math.isfinite)


def add_settings(parser, group: str = "") -> None:
    """An option for each setting of `group` that has a flag, as settings.py describes it."""
    defaults = Settings()
    for field, option in options():
        flag = flag_of(field)
        if flag is not None and option.group == group:
            default = getattr(defaults, field.name)
            help = option.help if default is not None else f"{option.help} (default: {option.shown_default})"
            parser.add_argument(flag, help=help, **_parsing(option, default))


def _parsing(option: Option, default) -> dict:
    """How argparse reads a setting: its type or choices (the rule's lower bound; the rest
    is Settings.validate's), and its default."""
    rule = option.rule
    if isinstance(rule, Flag):
        return {"action": "store_true"}   # a negated flag (--cbow-sum) sets its setting False
    if isinstance(rule, Choice):
        return {"choices": rule.choices, "default": default}
    if isinstance(rule, Integer):
        return {"type": positive_int if rule.low >= 1 else non_negative_int, "default": default}
    if isinstance(rule, Real):
        return {"type": positive_float if rule.positive else non_negative_float, "default": default}
    if isinstance(rule, Number):
        return {"type": finite_float, "default": default}
    return {"default": default}


def settings_of(args) -> Settings:
    """The settings the train command's flags give."""
    values = {}
    for field, option in options():
        flag = flag_of(field)
        if flag is not None:
            value = getattr(args, flag[2:].replace("-", "_"))
            values[field.name] = not value if option.negated else value
    return Settings(**values)
