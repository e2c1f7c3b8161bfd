"""The corpus trainer's settings: one dataclass field per setting, carrying its rule, its
command-line help, its word2vec.c and gensim equivalents and its README entry.

`w2v-ext train` builds its options from these fields (cli/arguments.py), `Settings.validate` checks
every rule, the native model file stores them, and tests/test_settings.py checks the
README's option table against them: a new setting is one field here (plus the kernel
that uses it).

gensim 4's argument names are accepted beside ours (`Settings.from_arguments`): where
gensim names a setting otherwise (vector_size, workers, sg) its name is a pure alias,
its values turned into ours; the arguments gensim has and we do not are either held to
the one value we support (hs=0) or accepted without effect (batch_words).
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, Union

import numpy as np

ARCHITECTURES = {"sg": 0, "cbow": 1}
GENSIM_SG = {"cbow": 0, "sg": 1}   # gensim's sg flag of each model
DEFAULT_ALPHA = {"sg": 0.025, "cbow": 0.05}
MIN_ALPHA_SHARE = 0.1   # the default end of the learning rate, as a share of alpha (chosen in bench/results/)
TOKENIZERS = ("whitespace", "regex")
INT32_MAX, INT64_MAX, UINT64_MAX = 2**31 - 1, 2**63 - 1, 2**64 - 1
FLOAT32_MAX = float(np.finfo(np.float32).max)


# ---- rules: what a setting may hold, each with the message naming what is wrong -----------

@dataclasses.dataclass(frozen=True)
class Integer:
    """An integer in [low, high] (high: the native type it goes to); None too if optional."""
    low: int
    high: int
    hint: str = ""               # after "must be a positive integer", e.g. " (0: every core)"
    optional: bool = False
    says_negative: bool = False  # a negative value gets the short message "must be >= low"

    def check(self, name: str, value) -> None:
        if value is None and self.optional:
            return
        if self.says_negative and _is_integer(value) and value < self.low:
            raise ValueError(f"{name} must be >= {self.low}{self.hint}, got {value!r}")
        if not _is_integer(value) or not self.low <= value <= self.high:
            what = "a positive integer" if self.low == 1 else f"an integer >= {self.low}"
            hint = self.hint + (" or None" if self.optional else "")
            raise ValueError(f"{name} must be {what}{hint}, at most {self.high}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Real:
    """A finite number: > 0 (and a float32) when positive, else >= 0; None too if optional."""
    positive: bool
    hint: str = ""
    optional: bool = False

    def check(self, name: str, value) -> None:
        if value is None and self.optional:
            return
        number = not isinstance(value, bool) and isinstance(value, (int, float))
        if self.positive and not (number and 0 < value <= FLOAT32_MAX):
            raise ValueError(f"{name} must be > 0 and finite{self.hint}, got {value!r}")
        if not self.positive and not (number and 0 <= value < math.inf):
            raise ValueError(f"{name} must be >= 0 and finite{self.hint}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Number:
    """A finite number in [low, high], of either sign."""
    low: float
    high: float

    def check(self, name: str, value) -> None:
        number = not isinstance(value, bool) and isinstance(value, (int, float))
        if not (number and self.low <= value <= self.high):
            raise ValueError(f"{name} must be a number in [{self.low:g}, {self.high:g}], got {value!r}")


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of a few strings."""
    choices: Tuple[str, ...]

    def check(self, name: str, value) -> None:
        if value not in self.choices:
            raise ValueError(f"{name} must be {' or '.join(map(repr, self.choices))}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Flag:
    """True or False."""

    def check(self, name: str, value) -> None:
        if value not in (True, False) or not isinstance(value, (bool, int, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Device:
    """'cpu', 'cuda' or 'cuda:N'."""
    shown: Tuple[str, ...] = ("cpu", "cuda", "cuda:N")

    def check(self, name: str, value) -> None:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {value!r}")
        parse_device(value)


Rule = Union[Integer, Real, Number, Choice, Flag, Device]


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def parse_device(device: str) -> Optional[int]:
    """None for 'cpu', the GPU index for 'cuda' / 'cuda:N'; ValueError otherwise."""
    if device == "cpu":
        return None
    if device == "cuda":
        return 0
    if device.startswith("cuda:") and device[5:].isdigit():
        return int(device[5:])
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


# ---- what each field carries ----------------------------------------------------------

_DERIVED = "derived"   # the flag of a field: --name-with-dashes


@dataclasses.dataclass(frozen=True)
class Option:
    """A setting's description (a field's metadata["option"])."""
    rule: Rule
    help: str                           # the train command's help
    flag: Optional[str] = _DERIVED      # its command-line flag; None: API only
    negated: bool = False               # a True/False setting that the flag turns off (--cbow-sum)
    group: str = ""                     # "distributed": listed in that group of the help
    word2vec_c: str = "—"               # README: word2vec.c's equivalent
    gensim: str = ""                    # gensim 4's name for the setting, where it has one (accepted as an alias)
    from_gensim: Optional[Callable[[Any], Any]] = None     # gensim's value -> ours, where they differ
    as_gensim: Optional[Callable[["Settings"], Any]] = None  # the setting as gensim's attribute holds it
    gensim_default: str = ""            # README: gensim's default, where it differs from ours
    shown_default: str = ""             # README: the default in words, when its value does not say it
    notes: str = ""                     # README: what else to know


def _model_of_sg(sg) -> str:
    """gensim's sg flag as our model."""
    if _is_integer(sg) or isinstance(sg, (bool, np.bool_)):
        if sg in (0, 1):
            return "sg" if sg else "cbow"
    raise ValueError(f"sg must be 0 (CBOW) or 1 (skip-gram), got {sg!r}")


def setting(default, rule: Rule, help: str, **option):
    return dataclasses.field(default=default, metadata={"option": Option(rule, help, **option)})


@dataclasses.dataclass
class Settings:
    """Training settings; names follow word2vec.c's flags where there is one."""
    model: str = setting(
        "cbow", Choice(tuple(ARCHITECTURES)), "skip-gram or CBOW (word2vec.c: -cbow; the default is word2vec.c's "
        "and gensim's)", word2vec_c="`-cbow 0\\|1`", gensim="sg", from_gensim=_model_of_sg,
        as_gensim=lambda s: GENSIM_SG[s.model], notes="as word2vec.c and gensim; gensim's `sg=1` is skip-gram")
    dim: int = setting(
        100, Integer(1, INT32_MAX), "vector size (word2vec.c: -size)", word2vec_c="`-size`", gensim="vector_size")
    window: int = setting(
        5, Integer(1, INT32_MAX), "maximum context distance; each word uses a random one in [1, window] (see "
        "--fixed-window)", word2vec_c="`-window`", gensim="window",
        notes="each word uses a random window in [1, window], as word2vec.c")
    negative: int = setting(
        5, Integer(1, INT32_MAX, " (negative sampling needs at least one noise word)"), "negative samples per word",
        word2vec_c="`-negative`", gensim="negative", notes="negative sampling only (no `-hs`)")
    sample: float = setting(
        1e-3, Real(positive=False, hint=" (0 turns subsampling off)"), "frequent-word subsampling threshold (0: off)",
        word2vec_c="`-sample`", gensim="sample", shown_default="1e-3",
        notes="frequent-word subsampling, word2vec.c's formula; 0: off")
    min_count: int = setting(
        5, Integer(1, INT64_MAX), "drop words seen fewer times", word2vec_c="`-min-count`", gensim="min_count")
    epochs: int = setting(
        5, Integer(1, INT32_MAX), "passes over the corpus (word2vec.c: -iter; the default is word2vec.c's and gensim's)",
        word2vec_c="`-iter`", gensim="epochs", notes="as word2vec.c and gensim")
    threads: int = setting(
        0, Integer(0, INT32_MAX, " (0: every core)", says_negative=True), "worker threads (0: every core)",
        word2vec_c="`-threads`", gensim="workers", gensim_default="3", shown_default="0 = every core",
        notes="word2vec.c defaults to 12, gensim to 3; every core trains fastest")
    alpha: Optional[float] = setting(
        None, Real(positive=True, optional=True),
        "starting learning rate; it decays linearly to --min-alpha",
        word2vec_c="`-alpha`", gensim="alpha", as_gensim=lambda s: s.start_alpha, gensim_default="0.025",
        shown_default="0.025 for sg, 0.05 for cbow",
        notes="word2vec.c's (gensim starts CBOW at 0.025 too); decays linearly over all epochs to `--min-alpha`")
    min_alpha: Optional[float] = setting(
        None, Real(positive=False, optional=True, hint=" (0: word2vec.c's schedule)"),
        "learning rate at the end of training (0: word2vec.c's schedule, which decays toward 0 and stops at "
        "alpha * 1e-4)", word2vec_c="—", gensim="min_alpha", as_gensim=lambda s: s.end_alpha,
        gensim_default="0.0001", shown_default="alpha * 0.1", notes="the learning rate the linear decay ends at; 0: "
        "word2vec.c's schedule (toward 0, stopping at alpha × 1e-4)")
    init_range: float = setting(
        0.5, Real(positive=True), "input vectors start uniform in +-init_range/dim (word2vec.c: 0.5; gensim 4: 1.0)",
        gensim_default="1.0", notes="input vectors start uniform in ±init_range/dim: 0.5 is word2vec.c's, 1.0 "
        "gensim 4's")
    seed: int = setting(
        1, Integer(0, UINT64_MAX), "random seed; with --threads 1 the vectors are identical from run to run",
        word2vec_c="— (fixed)", gensim="seed", notes="with `--threads 1` the vectors are bit-identical run to run")
    max_vocab_size: Optional[int] = setting(
        None, Integer(1, INT64_MAX, optional=True),
        "most distinct words held while counting; the rarest are pruned as word2vec.c does",
        word2vec_c="(hash-table pruning)", gensim="max_vocab_size", shown_default="none",
        notes="prunes the rarest words while counting, as word2vec.c does")
    max_final_vocab: Optional[int] = setting(
        None, Integer(1, INT64_MAX, optional=True), "keep only this many words", gensim="max_final_vocab",
        shown_default="none", notes="keep only the most frequent words")
    cbow_mean: bool = setting(
        True, Flag(), "CBOW: sum the context vectors instead of averaging", flag="--cbow-sum", negated=True,
        gensim="cbow_mean", as_gensim=lambda s: int(s.cbow_mean), shown_default="mean",
        notes="word2vec.c averages the context vectors (gensim: `cbow_mean=1`)")
    shared_negatives: bool = setting(
        True, Flag(),
        "skip-gram: draw negatives for every (word, context) pair as word2vec.c does, instead of once per window "
        "(HogBatch; faster, same quality)", flag="--per-pair-negatives", negated=True, word2vec_c="its only mode",
        gensim_default="per pair", shown_default="off", notes="default: one draw of negatives per window (HogBatch): "
        "faster, same quality")
    ns_exponent: float = setting(
        0.75, Number(-10.0, 10.0), "negatives are drawn with probability proportional to count ** ns_exponent "
        "(0: uniform; negative: rare words more often)", word2vec_c="— (0.75)", gensim="ns_exponent",
        notes="the noise distribution's power")
    shrink_windows: bool = setting(
        True, Flag(), "every word uses the whole window, instead of a random one in [1, window] (gensim's "
        "shrink_windows=False)", flag="--fixed-window", negated=True, word2vec_c="— (random)",
        gensim="shrink_windows", shown_default="off",
        notes="default: a random reach per word, as word2vec.c, so that close context words count more")
    max_sentence_length: int = setting(
        1000, Integer(1, INT32_MAX), "sentences are cut every this many vocabulary words (word2vec.c's "
        "MAX_SENTENCE_LENGTH; gensim cuts at 10000)", word2vec_c="1000 (fixed)", gensim_default="10000",
        notes="word2vec.c's; gensim cuts at 10000 (a window never reaches across a cut)")
    tokenizer: str = setting(
        "whitespace", Choice(TOKENIZERS),
        "whitespace (word2vec.c) or regex (the tutorial's lower-case \\b\\w+\\b|[,.!?])", word2vec_c="whitespace",
        notes="regex: the tutorial's lower-case `\\b\\w+\\b\\|[,.!?]`")
    device: str = setting(
        "cpu", Device(), "cpu, or cuda / cuda:N: train on a GPU (the corpus is read on the CPU, the tables stay on "
        "the device)", notes="the GPU trainer: tables and sampling on the device")
    sync_words: int = setting(
        1_000_000, Integer(1, INT64_MAX), "words each process trains between two weight averages",
        group="distributed", notes="words each process trains between two weight averages")
    dist_alpha_scale: Optional[float] = setting(
        None, Real(positive=True, optional=True),
        "each process trains at alpha x this (averaging N copies divides each update by N)", group="distributed",
        shown_default="the process count", notes="each process trains at alpha × this")

    def __post_init__(self):
        for field, option in options():   # gensim's 0/1 flags (cbow_mean=1) are stored as True/False
            value = getattr(self, field.name)
            if isinstance(option.rule, Flag) and isinstance(value, (int, np.integer, np.bool_)) and value in (0, 1):
                setattr(self, field.name, bool(value))

    @classmethod
    def from_arguments(cls, **given) -> "Settings":
        """Settings from keyword arguments under our names or gensim 4's (see GENSIM_FIXED
        and GENSIM_IGNORED for gensim's arguments that are no setting here). Not validated.
        TypeError for an unknown name or a setting given under both names."""
        values: Dict[str, Any] = {}
        given_as: Dict[str, str] = {}
        for name, value in given.items():
            if name in GENSIM_FIXED:
                _check_fixed(name, value)
                continue
            if name in GENSIM_IGNORED:
                continue
            field, value = _our_setting(name, value)
            if field in values:
                raise TypeError(f"{given_as[field]}= and {name}= are the same setting ({field}): give one of them")
            values[field], given_as[field] = value, name
        return cls(**values)

    def replaced(self, **given) -> "Settings":
        """A copy with the settings `given` (our names or gensim's) changed, validated."""
        changes = dict(_our_setting(name, value) for name, value in given.items())
        settings = dataclasses.replace(self, **changes)
        settings.validate()
        return settings

    def validate(self, distributed: bool = False) -> None:
        """Raise ValueError naming the first setting out of range (integers are bounded by
        the native types they go to), then the first combination that cannot train;
        `distributed`: for a data-parallel run."""
        for field, option in options():
            option.rule.check(field.name, getattr(self, field.name))
        if self.min_alpha is not None and self.min_alpha > self.start_alpha:
            raise ValueError(f"min_alpha must not exceed alpha ({self.start_alpha}), got {self.min_alpha!r}")
        if self.device != "cpu" and self.model == "sg" and not self.shared_negatives:
            raise ValueError("device='cuda' trains skip-gram with negatives shared across each window; "
                             "shared_negatives=False (word2vec.c's per-pair negatives) is CPU-only")
        if distributed and self.device not in ("cpu", "cuda"):
            raise ValueError(f"device={self.device!r}: in distributed training each rank uses cuda:LOCAL_RANK; "
                             f"pass device='cuda'")

    @property
    def architecture(self) -> int:
        """The native trainer's code for `model`: 0 skip-gram, 1 CBOW."""
        return ARCHITECTURES[self.model]

    @property
    def start_alpha(self) -> float:
        """The learning rate at the start: alpha, or the model's default."""
        return float(self.alpha if self.alpha is not None else DEFAULT_ALPHA[self.model])

    @property
    def end_alpha(self) -> float:
        """The learning rate at the end: min_alpha, or start_alpha * MIN_ALPHA_SHARE; 0 is
        word2vec.c's schedule (toward 0, stopping at start_alpha * 1e-4)."""
        return float(self.min_alpha if self.min_alpha is not None else self.start_alpha * MIN_ALPHA_SHARE)

    @property
    def thread_count(self) -> int:
        """Worker threads: threads, or every core for 0."""
        return int(self.threads or os.cpu_count() or 1)


# ---- gensim 4's names ---------------------------------------------------------------------

# gensim arguments that are no setting here, held to the one value we train with
GENSIM_FIXED = {
    "hs": (0, "hierarchical softmax is not implemented: w2v_ext trains with negative sampling only (hs=0, "
              "negative > 0)"),
    "sorted_vocab": (1, "the vocabulary is always sorted by descending count (sorted_vocab=1)"),
    "null_word": (0, "no null word is added (null_word=0): it pads gensim's Doc2Vec concatenation only"),
}
# gensim arguments accepted without effect, and why they have none
GENSIM_IGNORED = {
    "batch_words": "the corpus reaches the trainer in blocks of about 8 MiB of text (Word2Vec's block_bytes)",
    "hashfxn": "input vectors are drawn from the seed, not from a hash of each word",
    "comment": "gensim shows it in the model's repr",
}
# gensim 3's names, which gensim 4 renamed
GENSIM3_NAMES = {"size": "vector_size", "iter": "epochs"}


def _check_fixed(name: str, value) -> None:
    fixed, why = GENSIM_FIXED[name]
    if not isinstance(value, (int, np.integer)) or value != fixed:   # bools are ints: hs=False is hs=0
        raise ValueError(f"{name}={value!r} is not supported: {why}")


def _our_setting(name: str, value) -> Tuple[str, Any]:
    """(our setting's name, the value in our terms) of a keyword argument."""
    aliases = gensim_aliases()
    if name in aliases:
        field, option = aliases[name]
        return field.name, option.from_gensim(value) if option.from_gensim else value
    if name in {field.name for field, _ in options()}:
        return name, value
    hint = f" (gensim 3's name; gensim 4's is {GENSIM3_NAMES[name]})" if name in GENSIM3_NAMES else ""
    raise TypeError(f"unexpected keyword argument {name!r}{hint}")


def gensim_aliases() -> Dict[str, Tuple[dataclasses.Field, Option]]:
    """gensim's name -> (field, option) of the settings gensim names otherwise."""
    return {option.gensim: (field, option) for field, option in options() if option.gensim not in ("", field.name)}


def gensim_names() -> Dict[str, dataclasses.Field]:
    """gensim's name -> field, for every setting gensim has."""
    return {option.gensim: field for field, option in options() if option.gensim}


def gensim_value(settings: Settings, field: dataclasses.Field):
    """A setting as the attribute of gensim's name holds it (model.sg is 0 or 1)."""
    option = field.metadata["option"]
    return option.as_gensim(settings) if option.as_gensim else getattr(settings, field.name)


def options() -> Iterator[Tuple[dataclasses.Field, Option]]:
    """(field, option) of every setting, in declaration order."""
    for field in dataclasses.fields(Settings):
        yield field, field.metadata["option"]


def flag_of(field: dataclasses.Field) -> Optional[str]:
    """The command-line flag of a setting (None: API only)."""
    flag = field.metadata["option"].flag
    return "--" + field.name.replace("_", "-") if flag == _DERIVED else flag
