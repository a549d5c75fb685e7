"""Trace: the index finds a reworded copy's source, aligns them, reports changed facts, survives a kill."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from unspin.decode.engine import get_pack
from unspin.trace import IndexError_, Reference, add_references, open_index, read_references, trace
from unspin.trace.features import fingerprint
from unspin.trace.store import DB_NAME

# Reference articles written for these tests.
REFS = {
    "harbour": (
        "The harbour authority in Port Ellery said on Tuesday that 42 cargo ships were delayed by the storm. "
        "Captain Mira Olsen, who leads the pilots, said the waves reached nine metres near the breakwater. "
        "Repairs to the northern quay will cost about 3.5 million euros and should finish in March. "
        '"We have never seen the channel close for three days in a row," Olsen told reporters. '
        "The Ministry of Transport promised an inquiry into the warning system."
    ),
    "orchard": (
        "Farmers in the Vessa valley expect a smaller apple harvest after a late frost damaged the blossom. "
        "The regional cooperative estimated that yields would fall by 18 percent compared with last year. "
        "Growers who installed wind machines lost far less of their crop, according to the survey. "
        "Prices at the Hallen market have already risen, traders said on Friday."
    ),
    "library": (
        "The city library of Brannock will reopen on 4 May after a renovation that lasted two years. "
        "Architects kept the reading room's oak shelves and added a glass roof over the courtyard. "
        "The project cost 12 million pounds, most of it paid by a grant from the Arts Council. "
        "Librarian Tomas Reyes said the children's section is now twice as large as before."
    ),
    "bridge": (
        "Engineers closed the old railway bridge at Dunmore after inspectors found cracks in two steel girders. "
        "Trains between Dunmore and Kells will run on a diversion that adds forty minutes to the journey. "
        "The rail company said a temporary structure could be ready within six weeks."
    ),
}

# A spun copy of "harbour": synonym swaps, one number changed (42 → 44) and one name (Ministry of
# Transport → Ministry of Shipping), and a reworded quotation.
COPY = (
    "The port authority in Port Ellery stated on Tuesday that 44 freight vessels were postponed by the tempest. "
    "Captain Mira Olsen, who heads the pilots, explained the surf reached nine metres close to the breakwater. "
    "Fixes to the northern quay will price approximately 3.5 million euros and should complete in March. "
    '"We have never witnessed the channel shut for three days in a row," Olsen informed journalists. '
    "The Ministry of Shipping pledged an investigation into the alert system."
)


@pytest.fixture(scope="module")
def pack():
    return get_pack()


@pytest.fixture()
def index(tmp_path: Path, pack):
    idx = open_index(tmp_path / "idx", pack, create=True)
    idx.add(Reference(k, v, url=f"https://example.org/{k}") for k, v in REFS.items())
    yield idx
    idx.close()


def test_spun_copy_traces_to_its_source_with_aligned_passages(index) -> None:
    report = trace(COPY, index, top=3)
    best = report.trace[0]
    assert best["id"] == "harbour"
    assert best["url"] == "https://example.org/harbour"
    assert all(other["score"] < best["score"] for other in report.trace[1:])
    passages = best["passages"]
    assert passages, "a copy of the whole article aligns"
    first = passages[0]
    assert first["source_text"] == REFS["harbour"][first["source_start"] : first["source_end"]]
    assert COPY[first["copy_start"] : first["copy_end"]].startswith("The port authority")
    # Every sentence of this copy has its counterpart, so one passage covers the copy.
    assert passages[-1]["copy_end"] == len(COPY)


def test_changed_facts_number_name_and_quotation(index) -> None:
    facts = trace(COPY, index, top=1).trace[0]["changed_facts"]
    by_kind = {(f["kind"], f["change"]): f for f in facts}
    number = by_kind[("number", "altered")]
    assert (number["source"], number["copy"]) == ("42", "44")
    assert COPY[number["copy_start"] : number["copy_end"]] == "44"
    assert REFS["harbour"][number["source_start"] : number["source_end"]] == "42"
    name = by_kind[("name", "altered")]
    assert (name["source"], name["copy"]) == ("Ministry of Transport", "Ministry of Shipping")
    assert ("quote", "altered") in by_kind
    # Facts the copy kept are not reported.
    reported = {f["source"] for f in facts} | {f["copy"] for f in facts}
    assert "3.5 million" not in reported and "Mira Olsen" not in reported and "3.5" not in reported


def test_copy_offsets_index_the_input_when_repair_changed_it(index) -> None:
    damaged = COPY.replace("Olsen told", "Olsen told").replace('"We', "&quot;We", 1)
    report = trace(damaged, index, top=1)
    assert report.repairs, "the entity was repaired"
    for f in report.trace[0]["changed_facts"]:
        if f["copy_start"] is not None and f["kind"] == "number":
            assert damaged[f["copy_start"] : f["copy_end"]] == f["copy"]
    for p in report.trace[0]["passages"]:
        assert 0 <= p["copy_start"] < p["copy_end"] <= len(damaged)


@pytest.mark.parametrize(
    "text",
    [
        "Volcanic ash from the eruption grounded flights across the archipelago for a week.",
        # One word in common with one reference ("harbour"), none of the rest anywhere: the words no
        # reference holds count against the match (they once made it a perfect, lone candidate).
        "A quiet afternoon with tea, a crossword puzzle and a view of the harbour.",
    ],
)
def test_unrelated_text_lists_candidates_but_no_confident_source(index, text: str) -> None:
    report = trace(text, index)
    assert not any(s["is_source"] for s in report.trace)
    assert all(s["confidence"] < 0.5 for s in report.trace)
    assert not any(s["passages"] or s["changed_facts"] for s in report.trace)


def test_a_traced_copy_names_its_source_confidently(index) -> None:
    best, *others = trace(COPY, index, top=3).trace
    assert best["is_source"] and best["confidence"] >= 0.5
    assert not any(o["is_source"] for o in others)
    assert all(o["confidence"] < best["confidence"] for o in others)


def test_add_replaces_by_id_and_remove_forgets(index) -> None:
    assert len(index) == 4
    index.add([Reference("harbour", REFS["harbour"])])
    assert len(index) == 4 and index.ids().count("harbour") == 1
    assert index.remove(["harbour", "no-such-id"]) == 1
    assert len(index) == 3
    assert all(s["id"] != "harbour" for s in trace(COPY, index).trace)
    # The full-text part holds exactly the documents SQLite holds, and no journal row is left.
    assert index.fulltext.docs() == {d for (d,) in index.conn.execute("SELECT doc FROM docs")}
    assert index.conn.execute("SELECT count(*) FROM pending").fetchone() == (0,)


def test_fingerprint_is_spin_invariant_and_stable(pack) -> None:
    def shared(x: str, y: str) -> float:
        a, b = fingerprint(x, pack.vocab).anchors.tolist(), fingerprint(y, pack.vocab).anchors.tolist()
        return len(set(a) & set(b)) / len(a)

    assert shared(REFS["harbour"], COPY) > 0.5 > 0.1 > shared(REFS["harbour"], REFS["orchard"])
    # The same text gives the same hashes in another process (they are stored on disk).
    code = (
        "from unspin.decode.engine import get_pack; from unspin.trace.features import fingerprint;"
        f"print(fingerprint({REFS['orchard']!r}, get_pack().vocab).anchors.tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == fingerprint(REFS["orchard"], pack.vocab).anchors.tolist()


def test_index_of_another_format_is_refused_with_a_clear_message(tmp_path: Path, pack) -> None:
    with open_index(tmp_path / "i", pack, create=True) as idx:
        idx.add([Reference("x", REFS["bridge"])])
    conn = sqlite3.connect(tmp_path / "i" / DB_NAME)
    conn.execute("UPDATE meta SET value = '999' WHERE key = 'features'")
    conn.commit()
    conn.close()
    with pytest.raises(IndexError_, match="rebuild the index"):
        open_index(tmp_path / "i", pack)
    with pytest.raises(IndexError_, match="no index at"):
        open_index(tmp_path / "missing", pack)


def test_parallel_build_equals_serial_build(tmp_path: Path, pack) -> None:
    refs = [Reference(f"{k}-{i}", v + f" Item {i}.") for i in range(40) for k, v in REFS.items()]
    one, two = open_index(tmp_path / "serial", pack, create=True), open_index(tmp_path / "par", pack, create=True)
    with one, two:
        assert add_references(one, refs, workers=1) == add_references(two, refs, workers=2) == len(refs)
        for q in (COPY, REFS["library"]):
            assert [c.id for c in one.search(q, top=5)] == [c.id for c in two.search(q, top=5)]


def _write_refs(path: Path, n: int) -> None:
    with path.open("w") as fh:
        for i in range(n):
            k = list(REFS)[i % len(REFS)]
            fh.write(json.dumps({"id": f"r{i}", "text": f"Record {i} from Site{i}. " + REFS[k]}) + "\n")


def _committed(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        (n,) = conn.execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()
        conn.close()
        return int(n)
    except sqlite3.Error:
        return 0


def test_build_killed_mid_write_leaves_a_working_index_and_a_rerun_completes(tmp_path: Path, pack) -> None:
    refs, where = tmp_path / "refs.jsonl", tmp_path / "idx"
    total = 30000
    _write_refs(refs, total)
    cmd = [sys.executable, "-m", "unspin", "index", "build", str(refs), "--index", str(where), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while _committed(where / DB_NAME) < 2000 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the build finished before it could be killed; make the input larger"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    with open_index(where, pack) as idx:
        n = len(idx)
        assert 2000 <= n < total and n % 1000 == 0, "only whole batches are committed"
        assert len(idx.ids()) == n
        assert idx.search(f"Record 7 from Site7. {REFS['bridge']}", top=1)[0].id == "r7"
    subprocess.run(cmd, check=True, capture_output=True)
    with open_index(where, pack) as idx:
        assert len(idx) == total and len(set(idx.ids())) == total


def test_read_references_skips_bad_records_and_keeps_metadata(tmp_path: Path) -> None:
    path = tmp_path / "refs.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": REFS["bridge"], "url": "https://x.test/a", "date": "2024-01-02"})
        + "\nnot json\n"
        + json.dumps({"id": "b", "text": ""})
        + "\n",
        encoding="utf-8",
    )
    skipped = []
    refs = list(read_references([str(path)], skipped.append))
    assert [(r.id, r.url, r.date) for r in refs] == [("a", "https://x.test/a", "2024-01-02")]
    assert [s.id for s in skipped] == ["refs.jsonl:line-2", "b"]


def _written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _unspin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unspin", *args], capture_output=True, text=True)


def test_cli_index_and_trace(tmp_path: Path) -> None:
    refs = _written(tmp_path / "refs.jsonl", "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in REFS.items()))
    copy = _written(tmp_path / "copy.txt", COPY)
    where = str(tmp_path / "idx")
    run = _unspin("index", "build", str(refs), "--index", where)
    assert run.returncode == 0, run.stderr
    assert json.loads(_unspin("index", "info", "--index", where).stdout)["documents"] == 4
    out = _unspin("trace", str(copy), "--index", where, "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["trace"][0]["id"] == "harbour"
    text = _unspin("trace", str(copy), "--index", where).stdout
    assert "#1 harbour" in text and "Ministry of Transport" in text and "Ministry of Shipping" in text
    bad = _unspin("trace", str(copy), "--index", str(tmp_path / "none"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no index at" in bad.stderr
    removed = _unspin("index", "remove", "harbour", "--index", where)
    assert removed.returncode == 0 and "removed 1 of 1" in removed.stderr


def test_batch_with_index_adds_a_trace_to_every_report(tmp_path: Path) -> None:
    refs = _written(tmp_path / "refs.jsonl", "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in REFS.items()))
    where = str(tmp_path / "idx")
    assert _unspin("index", "build", str(refs), "--index", where).returncode == 0
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "copy", "text": COPY})
        + "\n"
        + json.dumps({"id": "other", "text": "Volcanic ash grounded flights across the archipelago for a week."})
        + "\n{broken\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    run = _unspin("batch", str(src), str(out), "--index", where, "--workers", "2")
    assert run.returncode == 0, run.stderr
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows["copy"]["trace"][0]["id"] == "harbour"
    assert any(f["copy"] == "44" for f in rows["copy"]["trace"][0]["changed_facts"])
    assert rows["copy"]["trace"][0]["is_source"]
    assert not any(s["is_source"] for s in rows["other"]["trace"])
    assert "error" in rows["in.jsonl:line-3"] and "trace" not in rows["in.jsonl:line-3"]
    bad = _unspin("batch", str(src), str(tmp_path / "o2.jsonl"), "--index", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "no index at" in bad.stderr


def test_crash_between_sqlite_and_fulltext_commit_is_repaired_on_reopen(tmp_path: Path, pack) -> None:
    """A process dying after SQLite committed a batch but before tantivy did: the journal replays."""
    where = tmp_path / "idx"
    with open_index(where, pack, create=True) as idx:
        idx.add([Reference("orchard", REFS["orchard"])])
    code = (
        "import os, sys; from unspin.trace import fulltext, open_index, Reference;"
        "fulltext.FullText.write = lambda *a, **k: os._exit(9);"  # die right where tantivy would commit
        f"idx = open_index({str(where)!r});"
        f"idx.add([Reference('harbour', {REFS['harbour']!r}), Reference('orchard', 'replaced text of orchard')])"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 9
    with open_index(where, pack) as idx:
        assert len(idx) == 2
        assert idx.conn.execute("SELECT count(*) FROM pending").fetchone() == (0,)
        assert idx.fulltext.docs() == {d for (d,) in idx.conn.execute("SELECT doc FROM docs")}
        assert idx.search(COPY, top=1)[0].id == "harbour"
        assert idx.search("replaced text of orchard", top=1)[0].id == "orchard"
        # Having replayed the journal, this reader let go of the write lock: another process may write.
        with open_index(where, pack) as other:
            other.add([Reference("bridge", REFS["bridge"])])
            assert len(other) == 3


def test_index_built_with_another_pack_is_refused_in_both_parts(tmp_path: Path, pack) -> None:
    import dataclasses

    with open_index(tmp_path / "i", pack, create=True) as idx:
        idx.add([Reference("x", REFS["bridge"])])
    other = dataclasses.replace(pack, manifest={**pack.manifest, "name": "pack-xx"}, memo={})
    with pytest.raises(IndexError_, match=r"built with pack '.*@.*', this unspin uses 'pack-xx@"):
        open_index(tmp_path / "i", other)
    # The full-text part checks its own record too (an index whose SQLite file was swapped).
    meta = tmp_path / "i" / "fulltext" / "unspin-fulltext.json"
    meta.write_text(meta.read_text().replace(pack.label, "pack-yy@1"))
    with pytest.raises(IndexError_, match="full-text part built with pack 'pack-yy@1'"):
        open_index(tmp_path / "i", pack)


def test_confident_source_restores_the_copy_with_its_wording(index) -> None:
    assert trace(COPY, index, top=1).spans == [], "tracing alone restores nothing unless asked"
    report = trace(COPY, index, top=1, restore=True)
    by_text = {s.text: s for s in report.spans}
    assert by_text["port"].original == "harbour" and "harbour" in by_text["port"].why
    # Adjacent differing words are one run: the source's wording for the whole run.
    assert by_text["44 freight vessels"].original == "42 cargo ships"
    assert by_text["Shipping pledged"].original == "Transport promised"
    for s in report.spans:
        assert COPY[s.start : s.end] == s.text
    # The restored copy is the source wherever each sentence was only reworded word for word.
    assert report.restored.startswith("The harbour authority in Port Ellery said on Tuesday that 42 cargo ships")
    assert "Captain Mira Olsen, who leads the pilots" in report.restored


def test_cli_check_and_restore_with_an_index_use_the_sources_wording(tmp_path: Path) -> None:
    refs = _written(tmp_path / "refs.jsonl", "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in REFS.items()))
    copy = _written(tmp_path / "copy.txt", COPY)
    where = str(tmp_path / "idx")
    assert _unspin("index", "build", str(refs), "--index", where).returncode == 0
    restored = _unspin("restore", str(copy), "--index", where)
    assert restored.returncode == 0, restored.stderr
    assert "The harbour authority in Port Ellery said on Tuesday that 42 cargo ships" in restored.stdout
    checked = _unspin("check", str(copy), "--index", where, "--json")
    report = json.loads(checked.stdout)
    assert report["trace"][0]["id"] == "harbour" and report["trace"][0]["is_source"]
    assert any(s["original"] == "harbour" and "harbour" in s["why"] for s in report["spans"])
    bad = _unspin("restore", str(copy), "--index", str(tmp_path / "none"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no index at" in bad.stderr


def test_sharded_index_gives_the_same_traces_as_one_index(tmp_path: Path, pack) -> None:
    refs = [Reference(f"{k}-{i}", v + f" Item {i} of Site{i}.") for i in range(12) for k, v in REFS.items()]
    refs.append(Reference("harbour", REFS["harbour"]))
    one = open_index(tmp_path / "one", pack, create=True)
    many = open_index(tmp_path / "many", pack, create=True, shards=3)
    with one, many:
        add_references(one, refs, workers=1)
        add_references(many, refs, workers=1)
        assert len(many) == len(one) == len(refs)
        assert sorted(many.ids()) == sorted(one.ids())
        assert all(len(s) > 0 for s in many.shards), "every shard holds some references"
        for q in (COPY, REFS["library"], "Volcanic ash grounded flights across the archipelago."):
            a, b = trace(q, one, top=5), trace(q, many, top=5)
            assert a.to_dict() == b.to_dict()
        assert trace(COPY, many).trace[0]["id"] == "harbour"
        assert many.remove(["harbour"]) == 1 and len(many) == len(refs) - 1
    # Reopened without saying it is sharded: the directory says so.
    with open_index(tmp_path / "many", pack) as again:
        assert len(again) == len(refs) - 1


def test_cli_builds_a_sharded_index(tmp_path: Path) -> None:
    refs = _written(tmp_path / "refs.jsonl", "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in REFS.items()))
    where = str(tmp_path / "idx")
    run = _unspin("index", "build", str(refs), "--index", where, "--shards", "2", "--workers", "1")
    assert run.returncode == 0, run.stderr
    info = json.loads(_unspin("index", "info", "--index", where).stdout)
    assert info["shards"] == 2 and info["documents"] == 4
    copy = _written(tmp_path / "copy.txt", COPY)
    out = _unspin("trace", str(copy), "--index", where, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["trace"][0]["id"] == "harbour"


def test_a_second_writer_is_refused_with_one_line_and_changes_nothing(tmp_path: Path, pack) -> None:
    refs = tmp_path / "refs.jsonl"
    refs.write_text(json.dumps({"id": "bridge", "text": REFS["bridge"]}) + "\n", encoding="utf-8")
    where = tmp_path / "idx"
    with open_index(where, pack, create=True) as idx:
        idx.add([Reference("orchard", REFS["orchard"])])
        idx.fulltext.lock()  # this process is writing
        run = _unspin("index", "add", str(refs), "--index", str(where), "--workers", "1")
        assert run.returncode == 2 and run.stderr.count("\n") == 1 and "another process is writing" in run.stderr
        gone = _unspin("index", "remove", "orchard", "--index", str(where))
        assert gone.returncode == 2 and "another process is writing" in gone.stderr
        assert idx.ids() == ["orchard"]
    with open_index(where, pack) as writer:  # the lock went with its holder
        writer.add([Reference("bridge", REFS["bridge"])])
        assert len(writer) == 2


def test_sentence_similarity_and_pairing_match_their_definitions() -> None:
    """The alignment's vectorised Dice matrix and row-wise programme give exactly what the pairwise
    definition and the cell-by-cell programme give (they replaced those for speed)."""
    import random

    import numpy as np

    from unspin.trace.align import MIN_SIMILARITY, _monotone_pairs, _similarity, _traceback

    rng = random.Random(3)
    vocab = [f"k{i}" for i in range(30)]
    for _ in range(50):
        a = [set(rng.sample(vocab, rng.randint(0, 8))) for _ in range(rng.randint(0, 12))]
        b = [set(rng.sample(vocab, rng.randint(0, 8))) for _ in range(rng.randint(0, 40))]
        want = np.array([[2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0 for y in b] for x in a]).reshape(
            len(a), len(b)
        )
        sim = _similarity(a, b)
        assert np.array_equal(sim, want)
        # The programme filled cell by cell (the row-at-a-time fill must give the same table, hence the
        # same path), and the path is a monotone pairing of sentences above the threshold.
        n, m = sim.shape
        gain = np.where(sim >= MIN_SIMILARITY, sim - MIN_SIMILARITY + 1e-3, -np.inf)
        best = np.zeros((n + 1, m + 1))
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                best[i, j] = max(best[i - 1, j], best[i, j - 1], best[i - 1, j - 1] + gain[i - 1, j - 1])
        got = _monotone_pairs(sim)
        assert got == _traceback(best)
        assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in itertools.pairwise(got))
        assert all(sim[i, j] >= MIN_SIMILARITY for i, j in got)
        assert sum(gain[i, j] for i, j in got) == pytest.approx(best[n, m])


# Template siblings: articles written from one template, differing in their names and numbers.
def _county_list(county: str, seat: str, listings: int, first: int, river: str) -> str:
    return (
        f"This is a list of the registered historic places in {county} County, Vermont. "
        f"The county seat is {seat}, and the county holds {listings} listed properties and districts. "
        f"The first property in {county} County was listed in {first}, the most recent in 2014. "
        f"Several of the listed mills stand along the {river} River, which crosses the county from north to south. "
        f"The locations of the properties with coordinates may be seen in an online map of {county} County. "
        f"Properties in {seat} are listed separately, under the heading of the town."
    )


SIBLINGS = {
    "list-orrin": _county_list("Orrin", "Calder", 37, 1971, "Mallow"),
    "list-pelham": _county_list("Pelham", "Tansy", 52, 1969, "Brook"),
    "list-quarry": _county_list("Quarry", "Holt", 41, 1975, "Wren"),
}
# A spun copy of the Rusk County list, whose article is not in the index.
SIBLING_COPY = (
    "This is a roster of the registered historic places in Rusk County, Vermont. "
    "The county seat is Amberly, and the county holds 29 listed properties and districts. "
    "The initial property in Rusk County was listed in 1973, the most recent in 2014. "
    "Various of the listed mills stand along the Fallow River, which traverses the county from north to south. "
    "The locations of the properties with coordinates may be seen in an online map of Rusk County. "
    "Properties in Amberly are listed separately, under the heading of the town."
)


def test_a_template_siblings_copy_gets_no_confident_source_until_its_own_is_indexed(tmp_path: Path, pack) -> None:
    """A copy of an article whose siblings (same template, other names and numbers) are indexed
    but not itself: candidates, none confident. Once its source is indexed, it is named."""
    with open_index(tmp_path / "idx", pack, create=True) as idx:
        idx.add(Reference(k, v) for k, v in {**REFS, **SIBLINGS}.items())
        found = trace(SIBLING_COPY, idx, top=3).trace
        assert found and found[0]["id"].startswith("list-")
        assert not any(s["is_source"] for s in found)
        idx.add([Reference("list-rusk", _county_list("Rusk", "Amberly", 29, 1973, "Fallow"))])
        best = trace(SIBLING_COPY, idx, top=3).trace[0]
        assert best["id"] == "list-rusk" and best["is_source"]


def test_names_kept_tells_a_source_from_a_template_sibling(pack) -> None:
    from unspin.trace.align import align
    from unspin.trace.store import _names_kept

    source = _county_list("Rusk", "Amberly", 29, 1973, "Fallow")
    sibling = SIBLINGS["list-orrin"]
    vocab = pack.vocab
    kept = {
        k: _names_kept(align(SIBLING_COPY, t), SIBLING_COPY, t, vocab) for k, t in (("own", source), ("sib", sibling))
    }
    assert kept["own"] == (1.0, 0.0)  # (names and numbers kept, numbers lost)
    assert kept["sib"][0] < 0.6 and kept["sib"][1] >= 0.5
    assert _names_kept([], SIBLING_COPY, source, pack.vocab) == (0.0, 0.0)
