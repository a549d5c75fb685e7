"""Metric definitions shared by the bench scripts (docs/ARCHITECTURE.md §5).

- Substitution detection: spun sentences are aligned with source sentences; spun words inside
  replaced blocks of the word-level alignment are the gold substitutions; precision / recall / F1 of
  flagged words against them.
- Restoration: every span's ``original`` applied; word error rate against the source before and
  after; restoration recall = share of one-to-one gold substitutions whose source word is matched
  exactly after restoration; restoration precision = share of words changed by restoration that
  now align with an equal source word.
- Documents: ROC AUC of scores, spun vs clean; recall at the threshold that flags ≤ 1 % of clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from unspin.learn.pairs import align_sentences, words  # one alignment for learning and measuring


def word_errors(hyp: list[str], ref: list[str]) -> int:
    prev = list(range(len(ref) + 1))
    for i, hw in enumerate(hyp, 1):
        cur = [i] + [0] * len(ref)
        for j, rw in enumerate(ref, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (hw != rw))
        prev = cur
    return prev[-1]


def apply_spans(text: str, spans: list[dict], lo: int, hi: int) -> tuple[str, list[tuple[int, int]]]:
    """``text[lo:hi]`` with each span's original applied; ranges (in the result) of real changes."""
    out: list[str] = []
    pos, n, changed = lo, 0, []
    for sp in sorted(spans, key=lambda s: s["start"]):
        orig = sp.get("original")
        if orig is None or sp["start"] < max(lo, pos) or sp["end"] > hi:
            continue
        chunk = text[pos : sp["start"]]
        out.append(chunk)
        n += len(chunk)
        if orig.strip().lower() != text[sp["start"] : sp["end"]].strip().lower():
            changed.append((n, n + len(orig)))
        out.append(orig)
        n += len(orig)
        pos = sp["end"]
    out.append(text[pos:hi])
    return "".join(out), changed


@dataclass
class PairScore:
    """Running totals over pairs; ``result()`` gives the figures."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    gold_one_to_one: int = 0
    restored_right: int = 0
    changed: int = 0
    changed_right: int = 0
    errors_before: int = 0
    errors_after: int = 0
    ref_words: int = 0
    sentences: int = 0
    per_doc: dict = field(default_factory=dict)

    def add_pair(self, pid: str, spun: str, src: str, spans: list[dict]) -> None:
        d_tp = d_fp = d_fn = 0
        for (a, b), (sa, sb) in align_sentences(spun, src):
            self.sentences += 1
            sw, tw = words(spun, a, b), words(src, sa, sb)
            sm = SequenceMatcher(None, [w for w, _, _ in sw], [w for w, _, _ in tw], autojunk=False)
            gold: set[int] = set()
            gold_src: set[int] = set()
            for op, i1, i2, j1, j2 in sm.get_opcodes():
                if op == "replace":
                    gold.update(range(i1, i2))
                    if i2 - i1 == j2 - j1:
                        gold_src.update(range(j1, j2))
            flagged = {i for i, (_, s, e) in enumerate(sw) if any(sp["start"] < e and s < sp["end"] for sp in spans)}
            d_tp += len(gold & flagged)
            d_fp += len(flagged - gold)
            d_fn += len(gold - flagged)
            restored, changed = apply_spans(spun, spans, a, b)
            ref = [w for w, _, _ in tw]
            rw = words(restored)
            self.errors_before += word_errors([w for w, _, _ in sw], ref)
            self.errors_after += word_errors([w for w, _, _ in rw], ref)
            self.ref_words += len(ref)
            sm2 = SequenceMatcher(None, [w for w, _, _ in rw], ref, autojunk=False)
            matched = {}
            for op, i1, i2, j1, _ in sm2.get_opcodes():
                if op == "equal":
                    matched.update({i1 + k: j1 + k for k in range(i2 - i1)})
            self.gold_one_to_one += len(gold_src)
            self.restored_right += len(gold_src & set(matched.values()))
            for k, (_, s, e) in enumerate(rw):
                if any(x <= s and e <= y for x, y in changed):
                    self.changed += 1
                    self.changed_right += k in matched
        self.tp += d_tp
        self.fp += d_fp
        self.fn += d_fn
        self.per_doc[pid] = {"tp": d_tp, "fp": d_fp, "fn": d_fn}

    def result(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        wb = self.errors_before / self.ref_words if self.ref_words else None
        wa = self.errors_after / self.ref_words if self.ref_words else None
        return {
            "scored_sentences": self.sentences,
            "token_precision": round(p, 4),
            "token_recall": round(r, 4),
            "token_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "restore_recall": round(self.restored_right / self.gold_one_to_one, 4) if self.gold_one_to_one else 0.0,
            "restore_precision": round(self.changed_right / self.changed, 4) if self.changed else None,
            "wer_before": round(wb, 4) if wb is not None else None,
            "wer_after": round(wa, 4) if wa is not None else None,
            "wer_reduction": round(1 - self.errors_after / self.errors_before, 4) if self.errors_before else None,
        }


def gold_span_score(spun_text: str, swaps: list[tuple[int, int, str]], spans: list[dict]) -> dict:
    """Word-level detection and restoration against exact gold swaps (synthetic data)."""
    ws = words(spun_text)
    gold = {i for i, (_, s, e) in enumerate(ws) if any(a < e and s < b for a, b, _ in swaps)}
    flagged = {i for i, (_, s, e) in enumerate(ws) if any(sp["start"] < e and s < sp["end"] for sp in spans)}
    restored_right = restored_wrong = 0
    by_start = {(a, b): orig for a, b, orig in swaps}
    for sp in spans:
        if sp.get("original") is None:
            continue
        orig = by_start.get((sp["start"], sp["end"]))
        if orig is not None and orig.lower() == sp["original"].lower():
            restored_right += 1
        else:
            restored_wrong += 1
    return {
        "tp": len(gold & flagged),
        "fp": len(flagged - gold),
        "fn": len(gold - flagged),
        "swaps": len(swaps),
        "restored_right": restored_right,
        "restored_wrong": restored_wrong,
    }


def roc_auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    neg_sorted = sorted(neg)
    from bisect import bisect_left, bisect_right

    wins = 0.0
    for p in pos:
        lo, hi = bisect_left(neg_sorted, p), bisect_right(neg_sorted, p)
        wins += lo + 0.5 * (hi - lo)
    return wins / (len(pos) * len(neg))


def threshold_at_fpr(neg: list[float], fpr: float = 0.01) -> float:
    """The smallest score threshold that flags at most ``fpr`` of the clean scores."""
    s = sorted(neg, reverse=True)
    k = int(fpr * len(s))  # this many may be flagged
    if k >= len(s):
        return 0.0
    return s[k] + 1e-9


def recall_at(pos: list[float], threshold: float) -> float:
    return sum(p >= threshold for p in pos) / len(pos) if pos else 0.0
