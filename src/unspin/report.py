"""The report: one data model that travels from the engine to every output (docs/ARCHITECTURE.md).

Renderers (``unspin.render``) turn it into JSON, terminal text, HTML or table rows. The contract other
tools read is declared here and only here: ``unspin.contract`` derives the pydantic models of the HTTP
API's OpenAPI schema and the published JSON Schema (docs/report.schema.json) from these dataclasses.
Every offset indexes the input string exactly as given (Python ``str`` indices).

This module stays free of heavy imports: ``import unspin.repair`` loads it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

REPORT_VERSION = 1

# Repair kinds, each a different story about how the text was damaged.
ENTITY = "entity"  # an HTML entity left in (or mangled into) the text: "&#39;", "& # 39", ",quot"
MOJIBAKE = "mojibake"  # text decoded with the wrong encoding: "Itâ€™s"
TEMPLATE = "template"  # leaked template or minifier tokens: "%MINIFYHTML…%", "{{ name }}"
INVISIBLE = "invisible"  # zero-width characters and soft hyphens that split words for matchers
HOMOGLYPH = "homoglyph"  # Cyrillic/Greek look-alikes inside Latin words: evidence of manipulation


@dataclass(frozen=True, slots=True)
class Repair:
    """One edit made by repair: ``input[start:end] == before`` became ``after``."""

    start: int
    end: int
    before: str
    after: str
    kind: str


@dataclass(frozen=True, slots=True)
class Span:
    """A run of words judged to be substituted, with the most probable original (or None)."""

    start: int
    end: int
    text: str
    original: str | None
    confidence: float
    why: str
    source: str | None = None  # "list": a match of a user's phrase list (unspin.phrases); None: the engine's

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["source"] is None:  # the engine's spans keep the contract's original shape
            del d["source"]
        return d


def _doc(text: str) -> dict[str, str]:
    """Field metadata: the description the JSON Schema and the OpenAPI schema show."""
    return {"doc": text}


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage of the text aligned with a passage of a candidate source."""

    copy_start: int = field(metadata=_doc("Start of the passage in the input (code points)."))
    copy_end: int
    source_start: int = field(metadata=_doc("Start of the passage in the source's text."))
    source_end: int
    similarity: float = field(metadata=_doc("How alike the two passages are, 0 to 1."))
    source_text: str


@dataclass(frozen=True, slots=True)
class ChangedFact:
    """A fact (name, number, date ...) that differs between an aligned passage and its source."""

    kind: str
    change: Literal["altered", "missing", "added"]
    source: str | None = field(metadata=_doc("The fact as the source states it (null when the copy added it)."))
    copy: str | None = field(metadata=_doc("The fact as the copy states it (null when the copy dropped it)."))
    source_start: int | None
    source_end: int | None
    copy_start: int | None = field(metadata=_doc("Offsets into the input (code points), null when absent there."))
    copy_end: int | None


@dataclass(frozen=True, slots=True)
class TraceItem:
    """A candidate source of the text in a reference collection (``Report.trace``, best first).

    The tracer builds these as plain dicts with the same keys; ``url``, ``title`` and ``date`` are
    left out when the reference has none.
    """

    id: str = field(metadata=_doc("The reference's id in the index."))
    score: float = field(metadata=_doc("Retrieval score (higher is better); comparable within one answer."))
    passages: list[Passage]
    changed_facts: list[ChangedFact]
    url: str | None = None
    title: str | None = None
    date: str | None = None
    confidence: float | None = field(default=None, metadata=_doc("How sure the tracer is that this is the source."))
    is_source: bool | None = field(default=None, metadata=_doc("Whether the tracer names it the text's source."))

    def to_dict(self) -> dict[str, Any]:
        """The contract form: the optional fields left out when empty."""
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None or k not in _TRACE_OPTIONAL}


_TRACE_OPTIONAL = frozenset(f.name for f in fields(TraceItem) if f.default is None)


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """A batch output row for a record that has no report (unreadable, empty, too long, or an engine
    failure): the record's id, why, and the record's own metadata columns."""

    id: str | None
    error: str = field(metadata=_doc("Why this record has no report, in one line."))
    meta: dict[str, Any] = field(default_factory=dict, metadata=_doc("Spread into the row as its own columns."))
    version: int = REPORT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "id": self.id, "error": self.error, **self.meta}


@dataclass(slots=True)
class Report:
    """What unspin says about one text. Fields left ``None`` belong to stages that did not run."""

    repaired: str
    repairs: list[Repair] = field(default_factory=list)
    spun: bool | None = None
    score: float | None = None
    verdict: str | None = None
    restored: str | None = None
    spans: list[Span] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    #: Candidate sources, best first (``unspin.trace``); items are TraceItems or dicts of its shape.
    trace: list[TraceItem] | None = None
    id: str | None = None
    version: int = REPORT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready contract form; stages that did not run are left out, not faked."""
        d: dict[str, Any] = {"version": self.version}
        if self.id is not None:
            d["id"] = self.id
        for key in ("spun", "score", "verdict"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        d["repaired"] = self.repaired
        if self.restored is not None:
            d["restored"] = self.restored
        d["repairs"] = [asdict(r) for r in self.repairs]
        if self.spun is not None or self.spans:
            d["spans"] = [s.to_dict() for s in self.spans]
        if self.stats:
            d["stats"] = dict(self.stats)
        if self.trace is not None:
            d["trace"] = [t.to_dict() if isinstance(t, TraceItem) else t for t in self.trace]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        """Inverse of :meth:`to_dict` (unknown fields are ignored: the contract may grow)."""
        return cls(
            repaired=d["repaired"],
            repairs=[Repair(**r) for r in d.get("repairs", [])],
            spun=d.get("spun"),
            score=d.get("score"),
            verdict=d.get("verdict"),
            restored=d.get("restored"),
            spans=[Span(**s) for s in d.get("spans", [])],
            stats=dict(d.get("stats", {})),
            trace=d.get("trace"),
            id=d.get("id"),
            version=d.get("version", REPORT_VERSION),
        )
