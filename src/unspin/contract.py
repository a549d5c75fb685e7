"""The report contract as pydantic models, derived from ``unspin.report``'s dataclasses.

The fields are declared once, in ``unspin.report`` (the engine builds those dataclasses, and importing
them costs nothing). This module turns each into a pydantic model with the same fields, types,
defaults and descriptions, for the HTTP API's OpenAPI schema (``unspin.serve.models``) and for the
published JSON Schema, ``docs/report.schema.json``:

    python -m unspin.contract                           # print the JSON Schema
    python -m unspin.contract --write docs/report.schema.json
    python -m unspin.contract --check docs/report.schema.json   # exit 1 when the file is stale (CI)

Only serve and the schema script import this module (pydantic is not needed to check a text).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

from . import report as _report

__all__ = ["ChangedFact", "ErrorRow", "Passage", "Repair", "Report", "Span", "TraceItem", "json_schema"]

# Fields that `Report.to_dict` always writes, whatever stages ran.
_ALWAYS = {_report.Report: ("version", "repaired", "repairs")}
_MODELS: dict[type, type[BaseModel]] = {}


def _swap(tp: Any) -> Any:
    """``tp`` with every contract dataclass in it replaced by its model (``list[Span] | None`` ...)."""
    if tp in _MODELS:
        return _MODELS[tp]
    origin, args = get_origin(tp), get_args(tp)
    if origin is None or origin is typing.Literal or not args:
        return tp
    swapped = tuple(_swap(a) for a in args)
    if origin in (Union, types.UnionType):
        return Union[swapped]  # noqa: UP007 (built from a tuple of types)
    return origin[swapped if len(swapped) > 1 else swapped[0]]


def derive(
    dc: type,
    doc: str | None = None,
    exclude: tuple[str, ...] = (),
    base: type[BaseModel] = BaseModel,
    **config: Any,
) -> type[BaseModel]:
    """The pydantic model of dataclass ``dc``: its fields (less ``exclude``), types (contract
    dataclasses inside them swapped for their models), defaults and ``metadata["doc"]`` descriptions."""
    hints = get_type_hints(dc, vars(_report))
    required = _ALWAYS.get(dc, ())
    specs: dict[str, Any] = {}
    for f in dataclasses.fields(dc):
        if f.name in exclude:
            continue
        described = f.metadata.get("doc")
        if f.name in required or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING):
            default = Field(..., description=described)
        elif f.default is not dataclasses.MISSING:
            default = Field(f.default, description=described)
        else:
            default = Field(default_factory=f.default_factory, description=described)
        specs[f.name] = (_swap(hints[f.name]), default)
    with warnings.catch_warnings():
        # ChangedFact.copy shadows BaseModel.copy, a deprecated method nothing here calls; the contract's
        # key is "copy" and stays so.
        warnings.filterwarnings("ignore", message='Field name "copy"', category=UserWarning)
        model = create_model(
            dc.__name__,
            __base__=base,
            __doc__=doc or (dc.__doc__ or "").strip(),
            __module__=__name__,
            **specs,
        )
    if config:
        model.model_config = ConfigDict(**{**model.model_config, **config})
        model.model_rebuild(force=True)
    _MODELS[dc] = model
    return model


# In dependency order: a model's fields may use only the models above it.
Repair = derive(_report.Repair)
Span = derive(_report.Span)
Passage = derive(_report.Passage)
ChangedFact = derive(_report.ChangedFact)
TraceItem = derive(_report.TraceItem)
# Contract version 1 may grow: a reader keeps the fields it does not know.
Report = derive(
    _report.Report,
    f"The report contract, version {_report.REPORT_VERSION}: what `unspin check --json`, the HTTP API and "
    "`unspin batch` rows carry. Fields of stages that did not run are absent.",
    extra="allow",
)
# `meta` is spread into the row as columns of their own: the extra properties.
ErrorRow = derive(
    _report.ErrorRow,
    "A batch row for a record with no report: its id, why, and the record's own metadata columns.",
    exclude=("meta",),
    extra="allow",
)

SCHEMA_ID = "https://unspin.invalid/report.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a report (the root) and of a batch error row (``$defs/ErrorRow``)."""
    _, top = models_json_schema([(Report, "validation"), (ErrorRow, "validation")], ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"unspin report, contract version {_report.REPORT_VERSION}",
        "description": (
            "Generated from unspin.report by `python -m unspin.contract`; do not edit. A batch output row is "
            "either a report (with `id`) or an ErrorRow (#/$defs/ErrorRow)."
        ),
        "$ref": "#/$defs/Report",
        "$defs": top["$defs"],
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m unspin.contract", description="The report's JSON Schema.")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, help="write the schema to this file")
    group.add_argument("--check", type=Path, help="exit 1 when this file is not the current schema")
    args = ap.parse_args(argv)
    text = schema_text()
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    elif args.check:
        current = args.check.read_text(encoding="utf-8") if args.check.is_file() else ""
        if current != text:
            print(f"{args.check} is stale: run `python -m unspin.contract --write {args.check}`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
