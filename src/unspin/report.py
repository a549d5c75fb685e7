"""The report: one data model that travels from the engine to every output (DESIGN.md §3).

Renderers (``unspin.render``) turn it into JSON, terminal text, HTML or table rows; nothing else
builds report dictionaries by hand, so the contract other tools read is defined here and only here.
Every offset indexes the input string exactly as given (Python ``str`` indices).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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
    trace: list[dict[str, Any]] | None = None
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
            d["trace"] = self.trace
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
