"""unspin as a datatrove pipeline step: drop (or tag) spun documents in a web-corpus pipeline.

    from datatrove.pipeline.readers import JsonlReader
    from unspin.batch.datatrove import UnspinFilter
    pipeline = [JsonlReader("crawl/"), UnspinFilter(fast=True), JsonlWriter("kept/")]

Each document's metadata gains ``unspin_score``, ``unspin_spun`` and ``unspin_verdict`` (and, in full
mode, ``unspin_spans``: the flagged spans with their likely originals), so a later step or an
exclusion writer can see why a document went. ``drop=False`` keeps every document and only tags it.
datatrove is an optional extra: ``pip install 'unspin[datatrove]'``.
"""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

__all__ = ["UnspinFilter"]


class UnspinFilter(BaseFilter):
    """Score each document with unspin; drop the spun ones (reason ``spun``) unless ``drop=False``.

    ``fast=True`` uses the screening mode (calibrated verdict, no spans: for crawl scale);
    ``cascade=True`` the screen first and the full check only on documents it cannot clear (full-check
    verdicts at near-screening cost; ``unspin_mode`` says which ran); ``threshold`` overrides the
    calibrated default. The language pack is loaded once per worker
    process, on the first document, memory-mapped.
    """

    name = "🌀 unspin"

    def __init__(
        self,
        fast: bool = True,
        threshold: float | None = None,
        cascade: bool = False,
        drop: bool = True,
        pack_dir: str | None = None,
        exclusion_writer: DiskWriter | None = None,
    ) -> None:
        super().__init__(exclusion_writer)
        self.fast = fast and not cascade
        self.cascade = cascade
        self.threshold = threshold
        self.drop = drop
        self.pack_dir = pack_dir
        self._pack = None

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        from ..decode import check
        from ..pack import load

        if self._pack is None:
            self._pack = load(self.pack_dir)
        report = check(doc.text or "", self._pack, threshold=self.threshold, fast=self.fast, cascade=self.cascade)
        doc.metadata["unspin_score"] = report.score
        doc.metadata["unspin_mode"] = (report.stats or {}).get("mode", "full")
        doc.metadata["unspin_spun"] = bool(report.spun)
        doc.metadata["unspin_verdict"] = report.verdict
        if (report.stats or {}).get("mode", "full") == "full":
            doc.metadata["unspin_spans"] = [s.to_dict() for s in report.spans]
        self.stat_update(f"verdict_{report.verdict}")
        if report.spun and self.drop:
            return False, "spun"
        return True
