"""settings.py is the one description of the trainer's settings: the train command's
options are made from it, and the README's option table must say what it says."""
from __future__ import annotations

import dataclasses
import os
import re

import pytest

from trainer_testing import REPO
from w2v_ext import cli
from w2v_ext.settings import Choice, Device, Settings, flag_of, options


def table_rows(text: str):
    """The cells of every markdown table row of `text` (escaped pipes kept in a cell)."""
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            for line in text.splitlines() if line.startswith("| ")]


def expected_row(field, option):
    """The README row of a setting, from its field."""
    flag = flag_of(field)
    shown = option.rule.choices if isinstance(option.rule, Choice) else \
        option.rule.shown if isinstance(option.rule, Device) else ()
    flag_cell = "`" + " ".join([flag, "\\|".join(shown)] if shown else [flag]) + "`"
    gensim_cell = (f"`{option.gensim}`" if option.gensim else "—") + \
        (f" ({option.gensim_default})" if option.gensim_default else "")
    default = option.shown_default or (f"{field.default:,}" if isinstance(field.default, int) else str(field.default))
    return [flag_cell, option.word2vec_c, gensim_cell, default, option.notes]


def test_readme_option_table_says_what_settings_say():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        rows = table_rows(f.read())
    expected = [expected_row(field, option) for field, option in options() if flag_of(field)]
    missing = [row for row in expected if row not in rows]
    assert not missing, "README.md's option table lacks (or differs from) these rows:\n" + "\n".join(
        "| " + " | ".join(row) + " |" for row in missing)
    assert sorted(expected, key=rows.index) == expected, "the README lists the settings in another order"


def test_the_train_command_has_an_option_for_every_setting():
    parser = cli.build_parser()
    args = parser.parse_args(["train", "c.txt", "-o", "v.bin"])
    assert cli.settings_of(args) == Settings()
    names = {flag_of(field) for field, _ in options() if flag_of(field)}
    train = parser._subparsers._group_actions[0].choices["train"]
    flags = {s for action in train._actions for s in action.option_strings}
    assert names <= flags
    args = parser.parse_args(["train", "c.txt", "-o", "v.bin", "--cbow-sum", "--per-pair-negatives",
                              "--model", "cbow", "--sync-words", "7"])
    assert dataclasses.asdict(cli.settings_of(args)) == dataclasses.asdict(
        Settings(model="cbow", cbow_mean=False, shared_negatives=False, sync_words=7))


@pytest.mark.parametrize("kw, distributed, needle", [
    (dict(model="sg", device="cuda", shared_negatives=False), False, "shared_negatives=False"),
    (dict(device="cuda:1"), True, "in distributed training each rank uses cuda:LOCAL_RANK"),
])
def test_combinations_that_cannot_train(kw, distributed, needle):
    """Settings.validate also owns the rules of combinations (the CUDA trainer's, the
    data-parallel run's)."""
    if distributed:
        Settings(**kw).validate()   # fine for one process
    with pytest.raises(ValueError, match=needle):
        Settings(**kw).validate(distributed=distributed)
