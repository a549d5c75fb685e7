"""The n-gram language model: a KenLM binary (modified Kneser-Ney), memory-mapped, queried in batches.

KenLM's binary trie is loaded with ``mmap`` (``load_method=LAZY``), so start-up costs no parsing and
the OS pages in only what queries touch. Words are expected in `unspin.tokens.lm_form` already, the
form the corpus was counted in. Scores are log10 probabilities, KenLM's convention.

Batched queries (`score_ngrams`) go through the compiled extension (``ext/kenlm_batch.cc``, built by
``setup.py``; `unspin.native`): one Python call per batch instead of one per word. The same extension
holds ``Model.screen_counts``, the screening mode's whole-document pass (`unspin.decode.detect.screen`),
``Model.window_gains`` (the decoder's pre-selection) and the tokenizer (``ext/text_scan.hh``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import kenlm
import numpy as np

from ..native import module

__all__ = ["NgramModel"]


class NgramModel:
    """A KenLM model with the query API the engine codes against."""

    def __init__(self, path: Path) -> None:
        config = kenlm.Config()
        config.load_method = kenlm.LoadMethod.LAZY
        self.path = Path(path)
        self.model = kenlm.Model(str(path), config)
        self.order: int = self.model.order
        self._batch = module().Model(str(path))

    @property
    def batch(self):
        """The compiled scorer (``_kenlm_batch.Model``) over the same binary."""
        return self._batch

    @property
    def compiled(self) -> bool:
        """Whether batched queries use the compiled extension: always (there is no other path); kept
        for the callers that report it."""
        return True

    def __contains__(self, word: str) -> bool:
        return word in self.model

    def token_logprobs(self, words: Sequence[str], bos: bool = True, eos: bool = False) -> np.ndarray:
        """log10 P(w_i | history) for each word (and for ``</s>`` last when ``eos``)."""
        m = self.model
        out = np.empty(len(words) + (1 if eos else 0), dtype=np.float64)
        s1 = kenlm.State()
        s2 = kenlm.State()
        m.BeginSentenceWrite(s1) if bos else m.NullContextWrite(s1)
        for i, w in enumerate(words):
            out[i] = m.BaseScore(s1, w, s2)
            s1, s2 = s2, s1
        if eos:
            out[-1] = m.BaseScore(s1, "</s>", s2)
        return out

    def logprob(self, words: Sequence[str], bos: bool = True, eos: bool = False) -> float:
        """log10 probability of the word sequence."""
        return float(self.token_logprobs(words, bos, eos).sum())

    def ngram_order(self, words: Sequence[str], bos: bool = True, eos: bool = False) -> np.ndarray:
        """Per word, the length of the longest n-gram the model had for it (1 = backed off to unigram).

        Low values where the context is ordinary English are the evidence that a phrase is unseen.
        """
        scores = self.model.full_scores(" ".join(words), bos=bos, eos=eos)
        return np.fromiter((n for _, n, _ in scores), dtype=np.int8, count=len(words) + (1 if eos else 0))

    def score_ngrams(self, ngrams: Sequence[Sequence[str]]) -> np.ndarray:
        """log10 P(last | rest) for each n-gram; an n-gram starting with ``<s>`` is sentence-initial.

        Each history's KenLM state is computed once per call, and the state *after* each n-gram is
        kept under its last ``order - 1`` words: the next n-gram of a sliding window (or any n-gram
        continuing this one) then starts from it, so most n-grams cost a single ``BaseScore``.
        """
        out = np.empty(len(ngrams), dtype=np.float64)
        self._batch.score_ngrams(ngrams, out)
        return out
