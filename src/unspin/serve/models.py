"""Typed request and response shapes for the HTTP API, so the OpenAPI schema documents the contract.

The report's models come from ``unspin.contract``, which derives them from ``unspin.report``'s
dataclasses (docs/ARCHITECTURE.md): the contract's fields are declared there only. Here are what the
API adds (the page's ``segments``, a reader's ``decision`` on a span) and its own requests and errors.
Responses themselves are produced by ``Report.to_dict()``; these models describe them.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import contract

_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(text: str) -> str:
    # JSON can carry lone surrogates ("\ud800"); they are not text, cannot be encoded as UTF-8 and
    # would fail deep in the engine. Refuse them at the door with a message that says why.
    bad = _SURROGATE.search(text)
    if bad:
        raise ValueError(f"text contains an unpaired surrogate code point at index {bad.start()}; send valid Unicode")
    return text


def _no_surrogates_or_none(text: str | None) -> str | None:
    return None if text is None else _no_surrogates(text)


class TextIn(BaseModel):
    """A text to look at. ``segments`` also returns the input cut into highlightable pieces."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The text as pasted; every offset in the answer indexes it (code points).")
    segments: bool = Field(False, description="Also return `segments`: the input as consecutive pieces.")

    _check_text = field_validator("text")(_no_surrogates)


MAX_PHRASES_CHARS = 256 * 1024  # a pasted list: ~10k entries; bigger lists belong on the server (--phrases)


class PhrasesIn(TextIn):
    """A phrase list sent with the text (``unspin.phrases`` format), used with the server's own lists."""

    phrases: str | None = Field(
        None,
        max_length=MAX_PHRASES_CHARS,
        description="A phrase list (TSV: spun<TAB>original[<TAB>note[<TAB>confidence]] per line, # comments), "
        "matched in addition to the lists the server was started with; its matches are spans with "
        '`source: "list"`.',
    )

    _check_phrases = field_validator("phrases")(_no_surrogates_or_none)


class RestoreIn(PhrasesIn):
    """``restore`` options: a phrase list."""


class CheckIn(PhrasesIn):
    """``check`` options: the decision threshold and the cheap screening mode."""

    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Score from which a text is spun.")
    fast: bool = Field(False, description="Screening mode: a calibrated verdict without spans.")


class TraceIn(PhrasesIn):
    """How many candidate sources to return, and whether to check the text for spinning too."""

    top: int = Field(3, ge=1, le=20, description="Number of candidate sources.")
    check: bool = Field(False, description="Also run spin detection: verdict, score, spans, restored.")


RepairOut = contract.Repair


class SpanOut(contract.Span):
    decision: Literal["accepted", "rejected"] | None = Field(
        None, description="Set by a reader in the web page; never by the engine."
    )


class SegmentOut(BaseModel):
    """One piece of the input: plain text, a repaired piece of damage, or a flagged span."""

    kind: Literal["text", "repair", "span"]
    text: str
    after: str | None = None
    repair: str | None = None
    index: int | None = None
    original: str | None = None
    confidence: float | None = None
    level: Literal["high", "medium", "low"] | None = None
    why: str | None = None
    source: Literal["list"] | None = None
    parts: list[SegmentOut] | None = None


class ReportOut(contract.Report):
    """The report contract, version 1 (README, docs/report.schema.json). Fields of stages that did not run
    are absent. The API may add ``segments`` (the input cut into highlightable pieces)."""

    spans: list[SpanOut] | None = None
    segments: list[SegmentOut] | None = None


class ReportIn(ReportOut):
    """A report sent back by the page (with the reader's decisions) to be rendered as a file."""

    model_config = ConfigDict(extra="ignore")

    _check_repaired = field_validator("repaired")(_no_surrogates)


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    """Every error, whatever its cause, has this shape."""

    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    pack: str | None = Field(description="Loaded language pack, or null (check/restore then answer 503).")
    pack_error: str | None = None
    index: str | None = Field(description="Loaded reference index, or null (trace then answers 503).")
    index_error: str | None = Field(None, description="Why the index given at start-up could not be opened.")
    index_documents: int | None = Field(None, description="References in the loaded index.")
    phrases: str | None = Field(None, description="The phrase lists the server was started with, or null.")
    workers: int = Field(0, description="Engine processes running and taking texts.")
    workers_error: str | None = Field(
        None, description="Why the last engine process failed to start (until one starts)."
    )
