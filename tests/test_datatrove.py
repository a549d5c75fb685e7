"""The datatrove filter step: a real datatrove pipeline drops the spun example and keeps clean text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("datatrove", reason="datatrove is an optional extra (pip install 'unspin[datatrove]')")

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from unspin.batch.datatrove import UnspinFilter

from .conftest import EXAMPLE

CLEAN = (
    "The city library of Brannock will reopen on 4 May after a renovation that lasted two years. Architects "
    "kept the reading room's oak shelves and added a glass roof over the courtyard, which now holds a cafe and "
    "space for exhibitions. The project cost 12 million pounds, most of it paid by a grant from the Arts "
    "Council, and the rest by a public appeal that raised more than expected. Librarian Tomas Reyes said the "
    "children's section is now twice as large as before, with a story corner and a room for homework clubs. "
    "The library will open on Sundays for the first time, and its local history archive has been digitised."
)


def _run(tmp_path: Path, step: UnspinFilter) -> tuple[list[dict], list[dict]]:
    src = tmp_path / "in"
    src.mkdir()
    docs = [{"id": "spun", "text": EXAMPLE.read_text(encoding="utf-8")}, {"id": "clean", "text": CLEAN}]
    (src / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    kept_dir, dropped_dir = tmp_path / "kept", tmp_path / "dropped"
    step.exclusion_writer = JsonlWriter(str(dropped_dir), compression=None)
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(src)), step, JsonlWriter(str(kept_dir), compression=None)],
        tasks=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()

    def rows(d: Path) -> list[dict]:
        return [json.loads(x) for f in sorted(d.glob("*.jsonl")) for x in f.read_text(encoding="utf-8").splitlines()]

    return rows(kept_dir), (rows(dropped_dir) if dropped_dir.exists() else [])


def test_filter_drops_spun_documents_and_tags_metadata(tmp_path: Path) -> None:
    kept, dropped = _run(tmp_path, UnspinFilter(fast=False))
    assert [d["id"] for d in kept] == ["clean"] and [d["id"] for d in dropped] == ["spun"]
    assert kept[0]["metadata"]["unspin_spun"] is False
    spun = dropped[0]["metadata"]
    assert spun["unspin_spun"] is True and spun["unspin_score"] >= 0.5
    assert any(s["original"] == "Foreign" for s in spun["unspin_spans"])


def test_filter_can_tag_without_dropping(tmp_path: Path) -> None:
    kept, dropped = _run(tmp_path, UnspinFilter(fast=True, drop=False))
    assert sorted(d["id"] for d in kept) == ["clean", "spun"] and dropped == []
    by_id = {d["id"]: d["metadata"] for d in kept}
    assert by_id["spun"]["unspin_score"] > by_id["clean"]["unspin_score"]
    assert "unspin_spans" not in by_id["spun"]


def test_cascade_clears_with_the_screen_and_judges_the_rest_in_full(tmp_path: Path) -> None:
    kept, dropped = _run(tmp_path, UnspinFilter(cascade=True))
    assert [d["id"] for d in kept] == ["clean"] and [d["id"] for d in dropped] == ["spun"]
    assert kept[0]["metadata"]["unspin_mode"] == "cascade-cleared" and "unspin_spans" not in kept[0]["metadata"]
    assert dropped[0]["metadata"]["unspin_mode"] == "full" and dropped[0]["metadata"]["unspin_spans"]
