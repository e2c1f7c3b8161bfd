"""Evaluations of KeyedVectors (the :class:`VectorEvaluation` part): word analogies
(Google's questions-words.txt) and word-pair similarity (WordSim-353, SimLex-999).

Two analogy evaluations: ``evaluate_analogies`` is word2vec.c's compute-accuracy (and
bench/evaluate.py's), with a report dict; ``evaluate_word_analogies`` is gensim 4's,
with its results. ``evaluate_word_pairs`` returns gensim's (pearson, spearman,
oov_ratio), which also reads as this package's report (``result["spearman"]``).
"""
from __future__ import annotations

import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .vector_queries import analogy_scores, unit_rows, vector_cosine

_BATCH_ELEMENTS = 1 << 24   # analogy evaluation: questions x vocab scores per chunk (64 MiB)
_GENSIM_SHOWN = 5           # gensim's evaluate_word_analogies looks at most_similar(topn=5)

Question = Tuple[str, str, str, str]


class Correlation(NamedTuple):
    """A correlation and its two-sided p-value (NaN without scipy), read like scipy's
    results: ``c[0]``, ``c.statistic``, ``c.correlation``, ``c.pvalue``."""
    statistic: float
    pvalue: float

    @property
    def correlation(self) -> float:
        return self.statistic


class WordPairsResult(tuple):
    """gensim's ``(pearson, spearman, oov_ratio)`` (two :class:`Correlation` and a
    percentage) that also reads as this package's report: ``result["spearman"]``,
    ``["pearson"]`` (the statistics), ``["pairs"]`` (pairs scored), ``["total"]``,
    ``["oov"]``; ``result.report`` is that dict."""

    def __new__(cls, pearson: Correlation, spearman: Correlation, oov_ratio: float, report: dict):
        result = super().__new__(cls, (pearson, spearman, oov_ratio))
        result.report = report
        return result

    def __getnewargs__(self):
        return (*self, self.report)

    def __getitem__(self, item):
        if isinstance(item, str):
            return self.report[item]
        return super().__getitem__(item)

    def __repr__(self) -> str:
        p, s, oov = self
        return (f"WordPairsResult(pearson={tuple(p)}, spearman={tuple(s)}, oov_ratio={oov}, "
                f"pairs={self.report['pairs']}, total={self.report['total']})")


class VectorEvaluation:
    """The evaluation methods of KeyedVectors; they use its ``vectors``, ``words`` and
    ``_norm_divisors()``."""

    def evaluate_analogies(self, path, restrict_vocab: Optional[int] = 30000, method: str = "3cosadd",
                           case_insensitive: bool = True) -> dict:
        """Accuracy on an analogy file in Google's ``questions-words.txt`` format.

        Lines ``: section`` start a section; other lines are ``a b c d`` (a : b :: c : d);
        lines without 4 words are ignored.  As word2vec.c's compute-accuracy and
        bench/evaluate.py: only the first ``restrict_vocab`` rows (None: all) are used,
        questions with a word outside them are skipped (counted in ``total``, not in
        ``questions``), the answer is the best-scoring restricted word other than
        a, b, c, ties going to the more frequent word.  With ``case_insensitive``,
        words match lower-cased, a lower-cased form maps to its most frequent
        spelling, and all spellings of a, b, c are excluded from the answers.

        Returns {"accuracy", "correct", "questions", "total", "skipped",
        "sections": {name: {"accuracy", "correct", "questions", "total"}}};
        accuracy = correct / questions (0.0 when no question could be answered).
        """
        if method not in ("3cosadd", "3cosmul"):
            raise ValueError(f"method must be '3cosadd' or '3cosmul', got {method!r}")
        key = str.lower if case_insensitive else str
        r = _evaluated_rows(restrict_vocab, len(self.words))
        index = first_rows(self.words[:r], key)
        canon = np.array([index[key(w)] for w in self.words[:r]], dtype=np.int64)   # [r]
        spellings: Dict[int, List[int]] = {}   # canonical row -> its other rows, if any
        for i in np.flatnonzero(canon != np.arange(r)):
            spellings.setdefault(int(canon[i]), []).append(int(i))

        names, totals, questions, question_section = _read_analogies(path, index, key)
        q = np.array(questions, dtype=np.int64).reshape(-1, 4)          # [m, 4] canonical rows
        correct = np.zeros(len(q), dtype=bool)
        candidates, divisors = self.vectors[:r], self._norm_divisors()[:r]
        chunk = max(1, _BATCH_ELEMENTS // max(r, 1) // (3 if method == "3cosmul" else 1))
        for s in range(0, len(q), chunk):
            b = q[s:s + chunk]
            a_, b_, c_ = (unit_rows(self.vectors[b[:, k]]) for k in range(3))
            scores = analogy_scores(candidates, divisors, a_, b_, c_, method)   # [B, r]
            rows = np.arange(len(b))
            for k in range(3):
                scores[rows, b[:, k]] = -np.inf
            if spellings:
                for qi in range(len(b)):
                    for k in range(3):
                        scores[qi, spellings.get(int(b[qi, k]), [])] = -np.inf
            correct[s:s + chunk] = canon[scores.argmax(axis=1)] == b[:, 3]
        return _analogy_report(names, totals, np.array(question_section, dtype=np.int64), correct)

    def evaluate_word_analogies(self, analogies, restrict_vocab: Optional[int] = 300000,
                                case_insensitive: bool = True, dummy4unknown: bool = False,
                                similarity_function: str = "most_similar") -> Tuple[float, List[dict]]:
        """gensim 4's analogy evaluation, with its results.

        Lines ``: section`` start a section (a question before the first one is a
        ValueError); other lines are ``a b c d``, lines without 4 words skipped. Words
        match upper-cased with ``case_insensitive``, among the first ``restrict_vocab``
        rows (None: all), a spelling mapping to its first row. A question with a word
        outside them is skipped, or counted wrong with ``dummy4unknown``. The answer is
        gensim's: of most_similar(positive=[b, c], negative=[a], topn=5) over those rows,
        the first word whose (upper-cased) spelling is none of a, b, c.

        Returns (accuracy, sections): per section {"section": name, "correct": [(a, b, c,
        d), ...], "incorrect": [...]} (words as matched: upper-cased), then the same for
        "Total accuracy"; accuracy is correct / (correct + incorrect), 0.0 with none.
        ``similarity_function`` other than 'most_similar' is refused (gensim 4.4 ignores
        it); 3CosMul is ``evaluate_analogies(path, method='3cosmul')``.
        """
        if similarity_function != "most_similar":
            raise ValueError(f"similarity_function must be 'most_similar', got {similarity_function!r} "
                             "(for 3CosMul use evaluate_analogies(path, method='3cosmul'))")
        key = str.upper if case_insensitive else str
        r = _evaluated_rows(restrict_vocab, len(self.words))
        index = first_rows(self.words[:r], key)
        sections = _read_gensim_analogies(analogies, key)
        answerable = [q for _, qs in sections for q in qs if all(w in index for w in q)]
        answers = iter(self._gensim_analogy_answers(answerable, index, key, r))
        results = []
        for name, qs in sections:
            correct, incorrect = [], []
            for q in qs:
                if all(w in index for w in q):
                    (correct if next(answers) == q[3] else incorrect).append(q)
                elif dummy4unknown:
                    incorrect.append(q)
            results.append({"section": name, "correct": correct, "incorrect": incorrect})
        total = {"section": "Total accuracy", "correct": [q for s in results for q in s["correct"]],
                 "incorrect": [q for s in results for q in s["incorrect"]]}
        answered = len(total["correct"]) + len(total["incorrect"])
        return (len(total["correct"]) / answered if answered else 0.0), results + [total]

    def _gensim_analogy_answers(self, questions: List[Question], index: Dict[str, int], key, r: int) -> List:
        """gensim's predicted (keyed) word per question, or None when no word is left."""
        rows = np.array([[index[w] for w in q[:3]] for q in questions], dtype=np.int64).reshape(-1, 3)
        candidates, divisors = self.vectors[:r], self._norm_divisors()[:r]
        answers = []
        chunk = max(1, _BATCH_ELEMENTS // max(r, 1))
        for s in range(0, len(rows), chunk):
            b = rows[s:s + chunk]
            ua, ub, uc = (unit_rows(self.vectors[b[:, k]]) for k in range(3))
            scores = unit_rows(ub + uc - ua) @ candidates.T   # [B, r]
            scores /= divisors
            for q, given, best in zip(questions[s:s + chunk], b.tolist(), _best_columns(scores, _GENSIM_SHOWN + 3)):
                shown = [i for i in best if i not in given][:_GENSIM_SHOWN]
                answers.append(_first_other_word(shown, self.words, key, set(q[:3])))
        return answers

    def evaluate_word_pairs(self, pairs, delimiter: Optional[str] = "\t", encoding: str = "utf8",
                            restrict_vocab: Optional[int] = 300000, case_insensitive: bool = True,
                            dummy4unknown: bool = False) -> WordPairsResult:
        """Correlation of cosine similarity with human scores (WordSim-353, SimLex-999).

        gensim 4's arguments and result: ``pearson, spearman, oov_ratio =
        kv.evaluate_word_pairs(path)``, each correlation a (statistic, pvalue) pair
        (p-values need scipy, else NaN), oov_ratio the percentage of pairs with a word
        outside the first ``restrict_vocab`` rows (None: all). The result also reads as
        this package's report: ``result["spearman"]``, ``["pearson"]``, ``["pairs"]``,
        ``["total"]``, ``["oov"]`` (see :class:`WordPairsResult`).

        File: ``word1<delimiter>word2<delimiter>score[...]`` per line (delimiter None:
        any whitespace); ``#`` comment lines and blank lines are skipped, and so is a
        header line (non-numeric score) before the first pair; any other line without a
        numeric third field raises ValueError naming it (gensim skips it). Words match
        upper-cased with ``case_insensitive`` (a spelling maps to its first row). Pairs
        with an unknown word are left out, or scored 0 with ``dummy4unknown``. The
        correlations are NaN with fewer than 2 pairs or a constant column (gensim raises
        ValueError when no pair is left); Spearman uses average ranks for ties, like
        scipy.stats.spearmanr.
        """
        key = str.upper if case_insensitive else str
        index = first_rows(self.words[:_evaluated_rows(restrict_vocab, len(self.words))], key)
        scored = _read_word_pairs(pairs, delimiter, encoding)
        rows = [(index.get(key(a)), index.get(key(b))) for a, b, _ in scored]
        known = np.array([a is not None and b is not None for a, b in rows], dtype=bool)
        similarity = np.zeros(len(scored), dtype=np.float64)
        # one pair at a time, as similarity() computes it (a file holds ~1000 pairs)
        similarity[known] = [vector_cosine(self.vectors[a], self.vectors[b]) for (a, b), k in zip(rows, known) if k]
        used = np.ones_like(known) if dummy4unknown else known
        gold = np.array([score for *_, score in scored], dtype=np.float64)[used]
        p, s = pearson(gold, similarity[used]), spearman(gold, similarity[used])
        n_known, total = int(known.sum()), len(scored)
        report = {"spearman": s, "pearson": p, "pairs": n_known, "total": total, "oov": total - n_known}
        oov_ratio = 100.0 * (total - n_known) / total if total else 0.0
        return WordPairsResult(Correlation(p, correlation_pvalue(p, len(gold))),
                               Correlation(s, correlation_pvalue(s, len(gold))), oov_ratio, report)


# ----------------------------------------------------------------------------- reading the files

def _read_analogies(path, index: Dict[str, int], key):
    """(section names, questions per section, questions [m] as 4 rows, section of each
    question) of a questions-words file, for evaluate_analogies."""
    names: List[str] = []
    totals: List[int] = []
    questions, question_section = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(":"):
                names.append(line[1:].strip())
                totals.append(0)
                continue
            ws = line.split()
            if len(ws) != 4:
                continue
            if not names:   # questions before any ': section' line
                names.append("")
                totals.append(0)
            totals[-1] += 1
            ids = [index.get(key(w)) for w in ws]
            if None not in ids:
                questions.append(ids)
                question_section.append(len(names) - 1)
    return names, totals, questions, question_section


def _read_gensim_analogies(path, key) -> List[Tuple[str, List[Question]]]:
    """[(section name, [(a, b, c, d) keyed words, ...]), ...] as gensim reads the file."""
    sections: List[Tuple[str, List[Question]]] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                if line.strip():
                    raise ValueError(f"{path}: line {lineno}: a question before the first ': section' line")
                continue
            words = line.split()
            if len(words) == 4:
                sections[-1][1].append(tuple(key(w) for w in words))
    return sections


def _read_word_pairs(path, delimiter: Optional[str], encoding: str) -> List[Tuple[str, str, float]]:
    """(word1, word2, score) of each pair line (see evaluate_word_pairs)."""
    scored: List[Tuple[str, str, float]] = []
    with open(path, encoding=encoding, errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\r\n").split(delimiter)
            try:
                score = float(parts[2]) if len(parts) >= 3 else None
            except ValueError:
                if not scored:   # header line
                    continue
                score = None
            if score is None:
                raise ValueError(f"{path}: line {lineno}: expected 'word1{_shown(delimiter)}word2"
                                 f"{_shown(delimiter)}score', got {line.strip()[:80]!r}")
            if not math.isfinite(score):   # one would make every correlation NaN
                raise ValueError(f"{path}: line {lineno}: the score must be a finite number, got {parts[2].strip()!r}")
            scored.append((parts[0].strip(), parts[1].strip(), score))
    return scored


def _shown(delimiter: Optional[str]) -> str:
    return {None: " ", "\t": "<TAB>"}.get(delimiter, delimiter)


# ----------------------------------------------------------------------------- small helpers

def first_rows(words: Sequence[str], key) -> Dict[str, int]:
    """key(word) -> the first row of a word with that key."""
    return dict(zip(map(key, reversed(words)), range(len(words) - 1, -1, -1)))


def _evaluated_rows(restrict_vocab: Optional[int], n: int) -> int:
    return n if restrict_vocab is None else max(0, min(int(restrict_vocab), n))


def _analogy_report(names: List[str], totals: List[int], section: np.ndarray, correct: np.ndarray) -> dict:
    """evaluate_analogies' report from each question's section [m] and correctness [m]."""
    n_sec = np.bincount(section, minlength=len(names))
    c_sec = np.bincount(section, weights=correct, minlength=len(names)).astype(np.int64)
    sections: Dict[str, dict] = {}
    for name, total, n, c in zip(names, totals, n_sec.tolist(), c_sec.tolist()):
        d = sections.setdefault(name, {"correct": 0, "questions": 0, "total": 0})
        d["correct"] += c
        d["questions"] += n
        d["total"] += total
    for d in sections.values():
        d["accuracy"] = d["correct"] / d["questions"] if d["questions"] else 0.0
    n_correct, total = int(correct.sum()), sum(totals)
    return {"accuracy": n_correct / len(correct) if len(correct) else 0.0, "correct": n_correct,
            "questions": len(correct), "total": total, "skipped": total - len(correct), "sections": sections}


def _best_columns(scores: np.ndarray, k: int) -> List[List[int]]:
    """Per row of scores [B, r], its k best columns, best first (ties: lower column first)."""
    k = min(k, scores.shape[1])
    if k == 0:
        return [[] for _ in range(len(scores))]
    part = np.sort(np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).tolist()


def _first_other_word(rows: List[int], words: Sequence[str], key, given: set):
    """gensim's answer among the rows shown: the first whose keyed word is not given
    (else the last one shown, or None when none is)."""
    predicted = None
    for i in rows:
        predicted = key(words[i])
        if predicted not in given:
            break
    return predicted


# ----------------------------------------------------------------------------- correlations

def _rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of x [n], ties getting the average of their ranks (scipy's 'average')."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    new = np.r_[True, xs[1:] != xs[:-1]]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(x)]
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = ((starts + ends + 1) / 2.0)[np.cumsum(new) - 1]
    return ranks


def pearson(x, y) -> float:
    """Pearson correlation of two equal-length sequences (NaN if < 2 items or constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"lengths differ: {len(x)} and {len(y)}")
    if len(x) < 2:
        return float("nan")
    xm, ym = x - x.mean(), y - y.mean()
    denom = np.sqrt((xm @ xm) * (ym @ ym))
    if not denom > 0:
        return float("nan")
    return float(np.clip((xm @ ym) / denom, -1.0, 1.0))


def spearman(x, y) -> float:
    """Spearman rank correlation with average ranks for ties (= scipy.stats.spearmanr)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"lengths differ: {len(x)} and {len(y)}")
    if len(x) < 2 or np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    return pearson(_rankdata(x), _rankdata(y))


def correlation_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation r over n pairs: Student's t with n - 2 degrees
    of freedom, as scipy's pearsonr and spearmanr (NaN without scipy or when n < 3)."""
    if n < 3 or math.isnan(r):
        return float("nan")
    try:
        from scipy.special import betainc
    except ImportError:
        return float("nan")
    # P(|T| >= |t|) with t^2 = r^2 (n-2) / (1 - r^2) is the regularised I_{1-r^2}((n-2)/2, 1/2)
    return float(betainc((n - 2) / 2, 0.5, max(0.0, 1.0 - r * r)))
