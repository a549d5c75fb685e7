"""The engine with the shipped English pack: contract, verdicts, restoration, CLI and batch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.decode import check, restore
from unspin.decode.detect import calibrations
from unspin.pack import LanguagePack, default_pack_path

from .conftest import EXAMPLE, SEED, needs_shared

pytestmark = pytest.mark.skipif(
    not (default_pack_path() / "lm.bin").exists(), reason=f"no language pack at {default_pack_path()}"
)

CLEAN = (
    "The city council approved a new budget on Tuesday after a long debate about school funding and road "
    "repairs. Members voted seven to two in favour of the plan, which increases spending on education by "
    "four percent and sets aside money to fix bridges in the northern part of the city. The mayor said the "
    "budget was a fair compromise and thanked residents who had attended public meetings over the past "
    "month. Opponents argued that the plan relied on optimistic forecasts of tax revenue and warned that "
    "the city could face a shortfall next year if the economy slowed. The budget takes effect in July, and "
    "the council will review its progress in the autumn."
)


@pytest.fixture(scope="module")
def pack() -> LanguagePack:
    return LanguagePack.load()


def assert_contract(text: str, report) -> None:
    d = report.to_dict()
    assert d["version"] == 1
    assert isinstance(d["spun"], bool)
    assert d["score"] is None or 0.0 <= d["score"] <= 1.0
    prev_end = 0
    for s in report.spans:
        assert text[s.start : s.end] == s.text, "span offsets index the input as given"
        assert s.start >= prev_end, "spans are sorted and disjoint"
        assert 0.0 <= s.confidence <= 1.0 and s.why
        prev_end = s.end
    json.dumps(d)  # serialisable


def test_shipped_example_is_flagged_and_restored(pack: LanguagePack) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    report = check(text, pack)
    assert_contract(text, report)
    assert report.spun and report.verdict == "spun"
    originals = {s.text: s.original for s in report.spans}
    assert "troopers" in originals  # flagged; its original is stated only when P(right) >= 0.8
    assert originals.get("Overseas") == "Foreign"
    assert "Foreign Ministry" in report.restored
    assert "MINIFYHTML" not in report.restored  # restoration starts from the repaired text


def test_why_states_the_evidence_and_no_more(pack: LanguagePack) -> None:
    """Originals come from the thesaurus, the corpus's substitutes or the word vectors; the explanation
    must not call every one "a known spinner swap" (code review §2), and it names what it found."""
    report = check(EXAMPLE.read_text(encoding="utf-8"), pack)
    for s in report.spans:
        assert "spinner swap" not in s.why
        assert s.why.startswith(f"“{s.text}” is unnatural here")
        if s.original is not None:
            assert f"“{s.original}”" in s.why and "likelier" in s.why


def test_clean_text_is_not_flagged(pack: LanguagePack) -> None:
    report = check(CLEAN, pack)
    assert_contract(CLEAN, report)
    assert report.spun is False and report.verdict == "clean"
    assert report.score < calibrations()["full"].threshold


def test_the_verdict_is_the_reported_score_against_the_threshold(pack: LanguagePack) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    score = check(text, pack).score
    assert check(text, pack, threshold=min(1.0, score + 1e-6)).spun is False
    assert check(text, pack, threshold=score).spun is True


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_score_is_monotone_in_the_evidence(pack: LanguagePack, mode: str) -> None:
    """README: the score is monotone in the evidence. The report's score is the calibration applied to
    the features its stats show, and raising any one feature never lowers it."""
    cal = calibrations()[mode]
    report = check(EXAMPLE.read_text(encoding="utf-8"), pack, fast=mode == "fast")
    features = cal.vector({"evidence": report.stats.get("evidence", 0.0), **report.stats["screen"]})
    n = report.stats["eligible_terms"]
    assert cal.score(features, n) == pytest.approx(report.score, abs=1e-3)
    for k in range(len(features)):
        for step in (0.01, 0.5, 5.0):
            more = tuple(x + step if i == k else x for i, x in enumerate(features))
            assert cal.score(more, n) >= cal.score(features, n), (mode, k, step)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Air electricity, said the Overseas Ministry.", "too-short"),
        (
            "Le conseil municipal a approuvé mardi un nouveau budget après un long débat sur le financement des "
            "écoles et la réparation des routes. Les membres ont voté en faveur du plan.",
            "not-english",
        ),
        ("| 1 | 2 | 3 |\n| 4 | 5 | 6 |\n| 7 | 8 | 9 |\n" * 10, "not-prose"),
    ],
)
def test_texts_that_cannot_be_judged_say_so(pack: LanguagePack, text: str, verdict: str) -> None:
    report = check(text, pack)
    assert report.verdict == verdict
    assert report.spun is False


def test_fast_mode_scores_without_spans(pack: LanguagePack) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    fast = check(text, pack, fast=True)
    assert fast.spans == [] and fast.stats["mode"] == "fast"
    assert fast.spun is True
    assert check(CLEAN, pack, fast=True).spun is False


def test_restore_applies_only_stated_originals(pack: LanguagePack) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    report = check(text, pack)
    assert restore(text, pack) == report.restored
    assert report.restored != report.repaired
    # Every change between repaired and restored comes from a span with an original, and only those.
    stated = [sp for sp in report.spans if sp.original is not None]
    unstated = [sp for sp in report.spans if sp.original is None]
    assert stated and unstated
    assert "Foreign Ministry" in report.restored and "Overseas Ministry" not in report.restored
    assert len(report.restored) - len(report.repaired) == sum(len(sp.original) - len(sp.text) for sp in stated)


@needs_shared
def test_seed_example(pack: LanguagePack) -> None:
    text = SEED.read_text(encoding="utf-8")
    report = check(text, pack)
    assert_contract(text, report)
    assert report.spun
    restored_as: dict[str, set[str]] = {}
    for s in report.spans:
        restored_as.setdefault(s.text.lower(), set()).add((s.original or "").lower())
    assert "troopers" in restored_as  # flagged (its original is stated only at P(right) >= 0.8)
    assert "foreign" in restored_as.get("overseas", set())


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unspin", *args], input=stdin, capture_output=True, timeout=300)


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    spun = run("check", str(EXAMPLE))
    assert spun.returncode == 1 and b"SPUN" in spun.stdout
    clean = tmp_path / "clean.txt"
    clean.write_text(CLEAN, encoding="utf-8")
    p = run("check", "--json", str(clean))
    assert p.returncode == 0
    assert json.loads(p.stdout)["spun"] is False
    missing = run("check", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and missing.stderr.count(b"\n") == 1


def test_cli_restore(tmp_path: Path) -> None:
    p = run("restore", str(EXAMPLE))
    assert p.returncode == 0
    assert "Foreign Ministry" in p.stdout.decode()


def test_batch_writes_one_row_per_record_and_error_rows(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": EXAMPLE.read_text(encoding="utf-8")}),
        "{not json",
        json.dumps({"id": "c", "body": "no text field"}),
        json.dumps({"id": "d", "text": CLEAN}),
    ]
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "e", "text": "bad \xff byte"}\n')
    out = tmp_path / "out.jsonl"
    p = run("batch", str(src), str(out))
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"]["spun"] is True and by_id["d"]["spun"] is False
    assert "error" in by_id["c"] and "error" in rows[1] and "error" in rows[4]
    assert b"5 documents" in p.stderr and b"3 errors" in p.stderr


def test_reporting_prior_follows_the_document(pack: LanguagePack) -> None:
    """A spun document is decoded under a higher swap prior than an honest one, and reports more."""
    from unspin.decode import engine

    threshold = calibrations()["full"].threshold
    assert engine.document_rho(0.0, threshold, 0.9) == pytest.approx(engine.DOC_RHO_MIN, abs=1e-3)
    assert engine.document_rho(1.0, threshold, 0.9) > 0.9 * engine.DOC_RHO_MAX
    low, high = engine.document_rho(1.0, threshold, 0.15), engine.document_rho(1.0, threshold, 0.3)
    assert engine.DOC_RHO_MIN <= low < high <= engine.DOC_RHO_MAX  # a spun page's own rate, estimated
    assert engine.span_min_gain(1.0, threshold) < engine.span_min_gain(0.0, threshold)
    spun = check(EXAMPLE.read_text(encoding="utf-8"), pack)
    honest = check(CLEAN, pack)
    assert spun.stats["swap_rate_prior"] > honest.stats["swap_rate_prior"]
    assert honest.stats["swap_rate_prior"] == pytest.approx(engine.DOC_RHO_MIN, abs=0.01)


def test_units_after_figures_are_not_swap_candidates(pack: LanguagePack) -> None:
    from unspin.decode.channel import eligible_flags
    from unspin.tokens import sentence_tokens

    sents = sentence_tokens("Up to 80 millimetres of rain fell in 7 days, and the days were long.")
    flags = dict(zip((t.text for t in sents[0]), eligible_flags(pack, sents)[0], strict=False))
    assert flags["millimetres"] is False and flags["rain"] is True
    row = eligible_flags(pack, sents)[0]
    days = [ok for t, ok in zip(sents[0], row, strict=True) if t.text == "days"]
    assert days == [False, True], "a unit only right after a figure"


def test_score_does_not_fall_when_a_spun_text_is_repeated(pack: LanguagePack) -> None:
    """Spinning is a property of the text, not of its length: the example pasted twice or ten times is
    no less spun (it used to score 0.76 and pass as clean at ten copies)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    once = check(text, pack)
    for times in (2, 10):
        repeated = check("\n\n".join([text] * times), pack)
        assert repeated.spun and repeated.score >= once.score - 1e-9, times
        assert repeated.stats["eligible_terms"] == once.stats["eligible_terms"]


def test_short_texts_need_stronger_evidence(pack: LanguagePack) -> None:
    """Features are shrunk towards honest text's mean by a pseudo-count of distinct terms, so the same
    odd-looking features count for less in a short text (short honest news was flagged); what remains
    between length bands is a fitted log-odds offset, interpolated in log(terms)."""
    for cal in (calibrations()["full"], calibrations()["fast"]):  # the verdicts (the cascade's screen judges none)
        assert cal.shrink > 0 and cal.means is not None and cal.length_offsets
        odd = tuple(m + 1.0 for m in cal.means)
        short, long = cal.shrunk(odd, 20), cal.shrunk(odd, 200)
        for s, lo, m in zip(short, long, cal.means, strict=True):
            assert abs(s - m) < abs(lo - m)
        (n0, o0), (n1, o1) = cal.length_offsets[:2]
        assert cal.offset(1) == cal.offset(int(n0)) == pytest.approx(o0, abs=1e-2)
        assert cal.offset(10**9) == pytest.approx(cal.length_offsets[-1][1])
        mid = int((n0 * n1) ** 0.5)  # halfway in log(terms)
        assert cal.offset(mid) == pytest.approx((o0 + o1) / 2, abs=0.02)
        for n in (10, 50, 100, 300, 1000, 5000):  # honest text's typical features are never spun
            assert cal.score(cal.means, n) < cal.threshold


def test_long_documents_planned_in_windows_give_the_same_report(pack: LanguagePack, monkeypatch) -> None:
    """Windows bound a long check's memory (plans are dropped after each window) and change no answer."""
    from unspin.decode import engine

    text = "\n\n".join([EXAMPLE.read_text(encoding="utf-8"), CLEAN] * 3)
    whole = check(text, pack).to_dict()
    monkeypatch.setattr(engine, "WINDOW_SENTENCES", 7)
    assert len(engine.sentence_tokens(text)) > 3 * 7
    assert check(text, pack).to_dict() == whole


def test_cascade_clears_with_the_screen_and_checks_the_rest_in_full(pack: LanguagePack) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    full = check(text, pack)
    cascaded = check(text, pack, cascade=True)
    assert cascaded.stats["mode"] == "full" and cascaded.to_dict() == full.to_dict()
    clean = check(CLEAN, pack, cascade=True)
    screen = check(CLEAN, pack, fast=True)
    cascade_cal = calibrations()["cascade"]
    assert cascade_cal.clear is not None and cascade_cal.features == calibrations()["fast"].features
    screened = cascade_cal.vector(screen.stats["screen"])
    assert cascade_cal.score(screened, screen.stats["eligible_terms"]) < cascade_cal.clear
    assert clean.stats["mode"] == "cascade-cleared" and clean.spans == [] and not clean.spun
    assert clean.score == screen.score < calibrations()["fast"].threshold


def test_the_cascade_never_clears_a_text_the_fast_verdict_calls_spun(pack: LanguagePack, monkeypatch) -> None:
    """The cascade's screen has weights of its own (fitted to tell what the full check flags); where the
    fast verdict disagrees with clearing a text, the full check judges it."""
    import dataclasses

    from unspin.decode import detect

    assert check(CLEAN, pack, cascade=True).stats["mode"] == "cascade-cleared"
    strict = dict(calibrations())
    strict["fast"] = dataclasses.replace(strict["fast"], threshold=0.0)  # the fast verdict: spun, always
    monkeypatch.setattr(detect, "calibrations", lambda: strict)
    cascaded = check(CLEAN, pack, cascade=True)
    assert cascaded.stats["mode"] == "full"
    monkeypatch.undo()
    assert cascaded.to_dict() == check(CLEAN, pack).to_dict()
    # A calibration without the cascade's own entry clears nothing: every text gets the full check.
    screen = check(CLEAN, pack, fast=True)
    named, n = screen.stats["screen"], screen.stats["eligible_terms"]
    assert detect.cascade_clears(calibrations(), named, n)
    assert not detect.cascade_clears({m: c for m, c in calibrations().items() if m != "cascade"}, named, n)


def test_the_full_verdict_reads_no_spinner_table_feature() -> None:
    """The full check's verdict must generalise to spinners unlike the learned table, so its calibration
    reads the decoder's evidence and the language-model screen only; a table feature, however large,
    leaves its score as it was (the screen's calibration reads them all)."""
    from unspin.decode.detect import SCREEN_FEATURES

    full, fast = calibrations()["full"], calibrations()["fast"]
    table = {"spinner_output_share", "spinner_output_bonus", "spinner_term_share"}
    assert not table & set(full.features) and table <= set(fast.features)
    named = {"evidence": 40.0, **dict.fromkeys(SCREEN_FEATURES, 10.0)}
    base = full.score(full.vector(named), 100)
    for name in table:
        assert full.score(full.vector({**named, name: 1e6}), 100) == base
        assert fast.score(fast.vector({**named, name: 1e3}), 100) >= fast.score(fast.vector(named), 100)
