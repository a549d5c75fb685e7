"""The report contract is declared once (unspin.report); the API's models and the published JSON Schema
(docs/report.schema.json) are derived from it, and real reports, traces and error rows conform."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import jsonschema_rs
import pytest

import unspin
from unspin import contract, report
from unspin.batch import report_row
from unspin.batch.sources import Record
from unspin.pack import default_pack_path

from .conftest import EXAMPLE

REPO = Path(unspin.__file__).resolve().parents[2]
SCHEMA = REPO / "docs" / "report.schema.json"
needs_pack = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)


def _validator(defn: str | None = None):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    if defn is not None:
        schema = {**schema, "$ref": f"#/$defs/{defn}"}
    return jsonschema_rs.validator_for(schema)


def test_the_committed_schema_is_the_generated_one() -> None:
    """Fails when report.py changed and docs/report.schema.json was not regenerated."""
    done = subprocess.run(
        [sys.executable, "-m", "unspin.contract", "--check", str(SCHEMA)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_models_have_exactly_the_dataclasses_fields() -> None:
    from unspin.serve.models import ReportOut, SpanOut

    for dc, model in ((report.Report, contract.Report), (report.Span, contract.Span),
                      (report.Repair, contract.Repair), (report.TraceItem, contract.TraceItem)):  # fmt: skip
        assert set(model.model_fields) == {f.name for f in dataclasses.fields(dc)}, dc
    # the API adds only its own fields
    assert set(ReportOut.model_fields) - set(contract.Report.model_fields) == {"segments"}
    assert set(SpanOut.model_fields) - set(contract.Span.model_fields) == {"decision"}


@needs_pack
def test_a_traced_and_checked_report_conforms(tmp_path: Path) -> None:
    from unspin.decode import check
    from unspin.pack import load
    from unspin.trace import attach_trace, open_index, read_references

    pack = load()
    index = open_index(tmp_path / "idx", pack, create=True)
    try:
        index.add(read_references([str(REPO / "examples" / "references.jsonl")]))
        rep = attach_trace(check(EXAMPLE.read_text(encoding="utf-8"), pack), index)
    finally:
        index.close()
    d = rep.to_dict()
    assert d["trace"] and d["trace"][0]["passages"] and d["spans"]
    _validator().validate(d)
    contract.Report.model_validate(d)
    # the validator is not vacuous: a span without its reason, or a fact with an unknown change, fails
    broken = json.loads(json.dumps(d))
    del broken["spans"][0]["why"]
    assert not _validator().is_valid(broken)
    item = json.loads(json.dumps(d["trace"][0]))
    item["changed_facts"] = [{"kind": "number", "change": "moved", "source": "1", "copy": "2",
                              "source_start": 0, "source_end": 1, "copy_start": 0, "copy_end": 1}]  # fmt: skip
    assert not _validator("TraceItem").is_valid(item)


def test_batch_error_rows_conform() -> None:
    rows = [
        report_row(Record(0, "r1", None, "not valid JSON", {"lang": "en"}), "fast", None),
        report_row(Record(1, "r2", "   "), "fast", None),
    ]
    assert rows[0] == {"version": 1, "id": "r1", "error": "not valid JSON", "lang": "en"}
    assert rows[1]["error"] == "empty text"
    for row in rows:
        _validator("ErrorRow").validate(row)
    assert not _validator("ErrorRow").is_valid({"version": 1, "id": "r3"})  # no reason given


def test_the_openapi_schema_types_trace_items() -> None:
    """The API's schema no longer says `trace: list[dict]`: it names the trace item and its parts."""
    from unspin.serve.app import ServeConfig, create_app

    schemas = create_app(ServeConfig(workers=1)).openapi()["components"]["schemas"]
    assert {"ReportOut", "TraceItem", "Passage", "ChangedFact", "SpanOut"} <= set(schemas)
    trace = schemas["ReportOut"]["properties"]["trace"]
    assert trace["anyOf"][0]["items"] == {"$ref": "#/components/schemas/TraceItem"}
