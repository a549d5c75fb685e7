// unspin page. All text shown here is untrusted web text: it is inserted with textContent only,
// never as HTML, and no handler is built from data. The API sends the input cut into segments
// (plain / repaired / flagged), so no span offsets cross into JavaScript (whose strings are UTF-16);
// the traced source's offsets do, and are applied to arrays of code points (see renderTrace).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { report: null, segments: [], decisions: [], selected: -1, mode: "check", key: "", sent: "", candidate: 0 };

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role") node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) node.append(c);
    return node;
  }

  // ---- input: paste, file picker, drag and drop ----------------------------------------
  const textarea = $("text");

  function updateCount() {
    const words = textarea.value.trim() ? textarea.value.trim().split(/\s+/u).length : 0;
    $("count").textContent = words ? `${words.toLocaleString()} words` : "";
  }

  function htmlToText(source) {
    // DOMParser builds an inert document: scripts do not run, nothing is fetched.
    const doc = new DOMParser().parseFromString(source, "text/html");
    doc.querySelectorAll("script,style,noscript,template,svg,head").forEach((n) => n.remove());
    const blocks = "P,DIV,LI,H1,H2,H3,H4,H5,H6,BR,TR,SECTION,ARTICLE,BLOCKQUOTE,PRE,HEADER,FOOTER,UL,OL,TABLE";
    const out = [];
    const walk = (node) => {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) out.push(child.nodeValue.replace(/\s+/gu, " "));
        else if (child.nodeType === Node.ELEMENT_NODE) {
          const block = blocks.includes(child.tagName);
          if (block) out.push("\n\n");
          walk(child);
          if (block) out.push("\n\n");
        }
      }
    };
    walk(doc.body || doc.documentElement);
    return out.join("").replace(/[ \t]*\n[ \t\n]*\n[ \t]*/gu, "\n\n").trim() + "\n";
  }

  async function loadFile(file) {
    if (!file) return;
    const name = file.name || "file";
    if (!/\.(txt|html?|text)$/iu.test(name) && !/^text\//u.test(file.type)) {
      showError(`${name}: not a .txt or .html file`);
      return;
    }
    const raw = await file.text();
    textarea.value = /\.html?$/iu.test(name) || file.type === "text/html" ? htmlToText(raw) : raw;
    $("file-name").textContent = `Loaded ${name}`;
    updateCount();
    textarea.focus();
  }

  async function loadPhrases(file) {
    if (!file) return;
    const name = file.name || "list";
    if (!/\.(tsv|txt|tab)$/iu.test(name) && !/^text\//u.test(file.type)) {
      showError(`${name}: not a .tsv or .txt phrase list`);
      return;
    }
    $("phrases").value = await file.text();
    $("phrases-name").textContent = `Loaded ${name}`;
  }

  // ---- talking to the API -------------------------------------------------------------
  async function api(path, body, accept = "json") {
    const headers = { "Content-Type": "application/json" };
    if (state.key) headers.Authorization = `Bearer ${state.key}`;
    const res = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try {
        const data = await res.json();
        if (data && data.error && data.error.message) message = data.error.message;
      } catch (_) { /* not JSON: keep the status line */ }
      if (res.status === 401) {
        $("key-row").hidden = false;
        $("api-key").focus();
      }
      throw new Error(message);
    }
    return accept === "json" ? res.json() : res.blob();
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  async function run(mode) {
    const text = textarea.value;
    if (!text.trim()) {
      showError("Paste a text or open a file first.");
      textarea.focus();
      return;
    }
    state.key = $("api-key").value.trim();
    showError("");
    const buttons = [$("check"), $("repair-only")];
    buttons.forEach((b) => { b.disabled = true; });
    $("busy").textContent = mode === "check" ? "Checking…" : "Repairing…";
    try {
      await healthLoaded;
      // With an index loaded, one call checks the text and traces its source (/v1/trace with check).
      const traced = mode === "check" && health.index;
      const path = traced ? "/v1/trace" : mode === "check" ? "/v1/check" : "/v1/repair";
      const body = traced ? { text, segments: true, check: true, top: 5 } : { text, segments: true };
      const phrases = $("phrases").value;
      if (mode === "check" && phrases.trim()) body.phrases = phrases;
      const report = await api(path, body);
      state.mode = mode;
      state.sent = text;
      show(report);
      $("busy").textContent = "";
    } catch (err) {
      showError(err.message);
      $("busy").textContent = "";
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ---- showing a report -------------------------------------------------------------------
  function pct(x) { return `${Math.round(x * 100)}%`; }

  function show(report) {
    state.report = report;
    state.segments = report.segments || [];
    state.decisions = (report.spans || []).map(() => null);
    state.selected = -1;
    state.candidate = 0;
    const verdict = $("verdict");
    const v = report.verdict || (report.spun === undefined ? "repaired" : report.spun ? "spun" : "clean");
    verdict.textContent = v === "spun" ? "Spun" : v === "clean" ? "Clean" : v.replace(/-/gu, " ");
    verdict.className = `verdict ${v === "spun" ? "spun" : v === "clean" ? "clean" : "other"}`;
    const parts = [];
    if (typeof report.score === "number") parts.push(`score ${report.score.toFixed(2)}`);
    if (report.spans) parts.push(`${report.spans.length} flagged span${report.spans.length === 1 ? "" : "s"}`);
    parts.push(`${report.repairs.length} repair${report.repairs.length === 1 ? "" : "s"}`);
    if (report.stats && report.stats.words !== undefined) parts.push(`${report.stats.words} words`);
    if (report.trace && report.trace.length) parts.push(`likely source: ${report.trace[0].title || report.trace[0].id} (${pct(report.trace[0].score)})`);
    else if (report.trace) parts.push("no source found in the index");
    $("summary").textContent = parts.join(" · ");
    renderMarked();
    renderRestored();
    renderLists();
    renderTrace();
    renderDetail();
    $("results").hidden = false;
    selectTab("tab-marked");
    $("results").focus();
  }

  function repairNode(seg) {
    const shown = seg.after === "" ? "·" : seg.after;
    return el("span", {
      class: "fix",
      text: shown,
      "data-fix": String(seg.index),
      title: `${seg.repair} repair: “${seg.text}” → “${seg.after}”`,
    });
  }

  function spanClass(i, level, source) {
    const d = state.decisions[i];
    const kind = source === "list" ? "listed" : `level-${level}`;
    return `spun ${kind}${d ? ` ${d}` : ""}${i === state.selected ? " selected" : ""}`;
  }

  function renderMarked() {
    const view = $("view-marked");
    view.replaceChildren();
    for (const seg of state.segments) {
      if (seg.kind === "text") view.append(seg.text);
      else if (seg.kind === "repair") view.append(repairNode(seg));
      else {
        const b = el("button", {
          type: "button",
          class: spanClass(seg.index, seg.level, seg.source),
          text: seg.text,
          "data-span": String(seg.index),
        });
        b.setAttribute("aria-label", seg.source === "list"
          ? `${seg.text}: in a phrase list, original ${seg.original || "not given"}`
          : `${seg.text}: possibly swapped for ${seg.original || "an unknown original"}, confidence ${pct(seg.confidence)}`);
        view.append(b);
        if (seg.original) view.append(el("span", { class: "orig-hint", text: `→ ${seg.original}` }));
      }
    }
  }

  function spanRestored(seg) {
    if (state.decisions[seg.index] !== "rejected" && seg.original) return seg.original;
    return (seg.parts || []).map((p) => (p.kind === "repair" ? p.after : p.text)).join("");
  }

  function restoredText() {
    return state.segments.map((seg) => (
      seg.kind === "text" ? seg.text : seg.kind === "repair" ? seg.after : spanRestored(seg)
    )).join("");
  }

  function renderRestored() {
    const view = $("view-restored");
    view.replaceChildren();
    for (const seg of state.segments) {
      if (seg.kind === "text") view.append(seg.text);
      else if (seg.kind === "repair") view.append(seg.after);
      else {
        const restored = spanRestored(seg);
        if (restored !== seg.text && state.decisions[seg.index] !== "rejected" && seg.original) {
          view.append(el("ins", { text: restored, title: `was “${seg.text}”` }));
        } else view.append(restored);
      }
    }
  }

  function spanSegments() { return state.segments.filter((s) => s.kind === "span"); }

  function renderLists() {
    // The model's spans and the phrase lists' matches are listed apart: one is a judgement, the
    // other a lookup the reader asked for.
    const spans = state.report.spans || [];
    const model = [];
    const listedSpans = [];
    spans.forEach((s, i) => (s.source === "list" ? listedSpans : model).push([s, i]));
    $("spans-count").textContent = String(model.length);
    $("spans-box").hidden = state.report.spans === undefined;
    $("listed-count").textContent = String(listedSpans.length);
    $("listed-box").hidden = !listedSpans.length;
    const fill = (list, items, label) => {
      list.replaceChildren();
      for (const [s, i] of items) {
        const d = state.decisions[i];
        const go = el("button", { type: "button", class: "link", text: s.text, "data-span": String(i) });
        list.append(el("li", {}, go, ` → ${s.original || "?"} (${label(s)})${d ? ` — ${d}` : ""}`));
      }
    };
    fill($("spans-list"), model, (s) => pct(s.confidence));
    fill($("listed-list"), listedSpans, (s) => s.why.replace(/^listed in /u, "").split(": ")[0]);
    const repairs = state.report.repairs || [];
    $("repairs-count").textContent = String(repairs.length);
    const rl = $("repairs-list");
    rl.replaceChildren();
    // Line numbers come from the segments (the input in order), so they count what the user pasted.
    let line = 1;
    const lines = new Map();
    const visit = (seg) => {
      if (seg.kind === "repair") lines.set(seg.index, line);
      if (seg.kind === "span") (seg.parts || []).forEach(visit);
      else line += (seg.text.match(/\n/gu) || []).length;
    };
    state.segments.forEach(visit);
    repairs.forEach((r, i) => {
      const where = lines.has(i) ? `line ${lines.get(i)}` : `characters ${r.start}–${r.end}`;
      const go = el("button", { type: "button", class: "link", text: where, "data-repair": String(i) });
      rl.append(el("li", {},
        go, " · ", el("strong", { text: r.kind }), ": ",
        el("code", { text: r.before }), " → ", el("code", { text: r.after === "" ? "(removed)" : r.after })));
    });
  }

  function renderDetail() {
    const i = state.selected;
    const spans = (state.report && state.report.spans) || [];
    const has = i >= 0 && i < spans.length;
    $("detail-empty").hidden = has;
    $("detail-body").hidden = !has;
    $("detail").hidden = state.report && state.report.spans === undefined;
    $("detail").classList.toggle("open", has);
    document.body.classList.toggle("sheet", has);
    if (!has) return;
    const s = spans[i];
    $("d-text").textContent = s.text;
    $("d-original").textContent = s.original || "unknown (several fit)";
    $("d-confidence").textContent = s.source === "list" ? `${pct(s.confidence)} (from the phrase list)` : pct(s.confidence);
    $("d-why").textContent = s.why;
    const d = state.decisions[i];
    $("d-status").textContent = d === "accepted" ? "You accepted the original." :
      d === "rejected" ? "You kept the text as written." : `Span ${i + 1} of ${spans.length}`;
    $("accept").disabled = !s.original;
    $("accept").setAttribute("aria-pressed", String(d === "accepted"));
    $("reject").setAttribute("aria-pressed", String(d === "rejected"));
    $("prev").disabled = i === 0;
    $("next").disabled = i === spans.length - 1;
  }

  function select(i, focusSpan) {
    state.selected = i;
    renderMarked();
    renderDetail();
    const b = $("view-marked").querySelector(`[data-span="${i}"]`);
    if (!b) return;
    if (focusSpan) b.focus();
    // On a phone the detail sheet covers the lower half: bring the span above it.
    const phone = window.matchMedia("(max-width: 760px)").matches;
    if (focusSpan || phone) b.scrollIntoView({ block: phone ? "center" : "nearest" });
  }

  function decide(decision) {
    const i = state.selected;
    if (i < 0) return;
    state.decisions[i] = state.decisions[i] === decision ? null : decision;
    renderMarked();
    renderRestored();
    renderLists();
    renderDetail();
  }

  // ---- the source side by side (when the server has an index) -----------------------------
  // Trace offsets are code points (Python str indices); JavaScript strings are UTF-16, so both
  // texts are cut as arrays of code points (Array.from) and never with String.slice.
  const CHANGE_LABEL = { altered: "changed", missing: "left out", added: "added" };

  function factLabel(f) { return `${f.kind} ${CHANGE_LABEL[f.change] || f.change}`; }

  function cut(points, start, end) { return points.slice(start, end).join(""); }

  // One column of a passage: its text with the facts marked (colour + a text label).
  function column(points, lo, hi, marks, side) {
    const p = el("p", { class: "passage-text" });
    let pos = lo;
    for (const m of marks.filter((x) => x.start >= lo && x.end <= hi).sort((a, b) => a.start - b.start)) {
      if (m.start < pos) continue; // overlapping fact: the first one keeps the characters
      p.append(cut(points, pos, m.start));
      const mark = el("mark", {
        class: `fact fact-${m.fact.change}`,
        id: `fact-${side}-${m.i}`,
        "data-fact": String(m.i),
        tabIndex: -1,
      }, cut(points, m.start, m.end));
      mark.append(el("span", { class: "fact-tag", text: factLabel(m.fact) }));
      p.append(mark);
      pos = m.end;
    }
    p.append(cut(points, pos, hi));
    return p;
  }

  function candidateButton(cand, n) {
    const b = el("button", {
      type: "button",
      class: "candidate",
      "data-candidate": String(n),
      text: `${n + 1}. ${cand.title || cand.id} · ${pct(cand.score)}`,
    });
    b.setAttribute("aria-pressed", String(n === state.candidate));
    return b;
  }

  function renderTrace() {
    const trace = state.report.trace;
    const tab = $("tab-source");
    const view = $("view-source");
    view.replaceChildren();
    tab.hidden = !health.index || !Array.isArray(trace);
    if (tab.hidden) return;
    if (!trace.length) {
      tab.textContent = "Source";
      const docs = typeof health.index_documents === "number" ? ` (${health.index_documents.toLocaleString()} references)` : "";
      view.append(el("p", { class: "muted", id: "no-source", text: `No likely source in the loaded index${docs}.` }));
      return;
    }
    tab.textContent = `Source · ${pct(trace[0].score)}`;
    const cand = trace[state.candidate] || trace[0];
    const n = trace.indexOf(cand);
    const head = el("div", { class: "source-head" });
    head.append(el("h3", { id: "source-title", text: `${n === 0 ? "Likely source" : `Candidate ${n + 1}`}: ${cand.title || cand.id}` }));
    const meta = [`id ${cand.id}`];
    if (cand.date) meta.push(String(cand.date));
    meta.push(`${pct(cand.score)} of the shorter text's wording skeleton is shared`);
    const line = el("p", { class: "muted", text: meta.join(" · ") });
    if (typeof cand.url === "string" && /^https?:\/\//iu.test(cand.url)) {
      line.append(" · ", el("a", { href: cand.url, text: cand.url, rel: "noopener noreferrer nofollow", target: "_blank" }));
    } else if (cand.url) line.append(` · ${cand.url}`);
    head.append(line);
    view.append(head);
    if (trace.length > 1) {
      const group = el("div", { class: "candidates", role: "group", "aria-label": "Candidate sources, best first" });
      group.append(el("span", { class: "label-s", text: "Candidates" }));
      trace.forEach((c, i) => group.append(candidateButton(c, i)));
      view.append(group);
    }

    const facts = cand.changed_facts || [];
    const passages = cand.passages || [];
    const copyMarks = [];
    const sourceMarks = [];
    facts.forEach((f, i) => {
      if (f.copy_start !== null && f.copy_start !== undefined) copyMarks.push({ start: f.copy_start, end: f.copy_end, fact: f, i });
      if (f.source_start !== null && f.source_start !== undefined) sourceMarks.push({ start: f.source_start, end: f.source_end, fact: f, i });
    });
    const sent = Array.from(state.sent);
    view.append(el("h4", { text: `Aligned passages (${passages.length})` }));
    view.append(el("div", { class: "legend fact-legend", "aria-label": "Changed facts legend" },
      ...["altered", "missing", "added"].map((c) => el("span", { class: `fact fact-${c}`, text: `${CHANGE_LABEL[c]} in the copy` }))));
    const list = el("ol", { class: "passages", id: "passages" });
    passages.forEach((p, k) => {
      const source = Array.from(p.source_text);
      // Source facts index the whole source document; inside a passage, shift them to source_text.
      const local = sourceMarks.map((m) => ({ ...m, start: m.start - p.source_start, end: m.end - p.source_start }));
      const item = el("li", { class: "passage", "aria-label": `Passage ${k + 1}, similarity ${pct(p.similarity)}` });
      const copyCol = el("div", { class: "col col-copy" }, el("span", { class: "label-s", text: "This text" }),
        column(sent, p.copy_start, p.copy_end, copyMarks, "copy"));
      const srcCol = el("div", { class: "col col-source" }, el("span", { class: "label-s", text: "Source" }),
        column(source, 0, source.length, local, "source"));
      item.append(copyCol, srcCol);
      list.append(item);
    });
    view.append(list);

    view.append(el("h4", { text: `Changed facts (${facts.length})` }));
    if (!facts.length) view.append(el("p", { class: "muted", text: "No number, name, date or quotation differs in the aligned passages." }));
    const fl = el("ol", { class: "list facts", id: "facts-list" });
    facts.forEach((f, i) => {
      const go = el("button", { type: "button", class: "link", "data-fact": String(i), text: factLabel(f) });
      const li = el("li", { class: "fact-item" }, go, ": ");
      if (f.change === "altered") li.append(el("del", { text: f.source }), " → ", el("ins", { text: f.copy }));
      else if (f.change === "missing") li.append(el("del", { text: f.source }), " (in the source, not in this text)");
      else li.append(el("ins", { text: f.copy }), " (in this text, not in the source)");
      fl.append(li);
    });
    view.append(fl);
  }

  function showFact(i) {
    const marks = ["copy", "source"].map((side) => $(`fact-${side}-${i}`)).filter(Boolean);
    marks.forEach((m, k) => {
      if (k === 0) { m.scrollIntoView({ block: "center" }); m.focus({ preventScroll: true }); }
      m.classList.remove("flash");
      void m.offsetWidth; // restart the animation
      m.classList.add("flash");
    });
  }

  // ---- tabs (arrow keys move between them, as the ARIA pattern says) ----------------------
  const tabs = () => Array.from(document.querySelectorAll("[role=tab]")).filter((t) => !t.hidden);

  function selectTab(id) {
    // The span panel belongs to the highlighted text; the source view takes the full width.
    $("results").classList.toggle("source-mode", id === "tab-source");
    for (const t of document.querySelectorAll("[role=tab]")) {
      const on = t.id === id;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
  }

  // ---- downloads --------------------------------------------------------------------------
  function decidedReport() {
    const r = JSON.parse(JSON.stringify(state.report));
    delete r.segments;
    if (r.spans) {
      r.spans.forEach((s, i) => { if (state.decisions[i]) s.decision = state.decisions[i]; });
      r.restored = restoredText();
    }
    return r;
  }

  function save(blob, name) {
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function stamp() { return new Date().toISOString().replace(/[:.]/gu, "-").slice(0, 19); }

  // ---- wiring -----------------------------------------------------------------------------
  let health = { index: null };
  let healthLoaded = Promise.resolve();

  document.addEventListener("DOMContentLoaded", () => {
    healthLoaded = fetch("/healthz").then((r) => r.json()).then((h) => {
      health = h;
      if (h.phrases) {
        $("phrases-server").textContent = `This server also matches its own lists: ${h.phrases}.`;
        $("phrases-server").hidden = false;
      }
    }).catch(() => {});
    textarea.addEventListener("input", updateCount);
    $("form").addEventListener("submit", (e) => { e.preventDefault(); run("check"); });
    $("repair-only").addEventListener("click", () => run("repair"));
    $("file").addEventListener("change", (e) => loadFile(e.target.files[0]));
    const drop = $("drop");
    for (const ev of ["dragenter", "dragover"]) {
      drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
    }
    for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) loadFile(e.dataTransfer.files[0]);
    });
    // One delegated listener: span buttons carry only an index, never code or markup.
    const pick = (e) => {
      const b = e.target.closest("[data-span]");
      if (b) select(Number(b.getAttribute("data-span")), e.currentTarget.id !== "view-marked");
    };
    $("view-marked").addEventListener("click", pick);
    $("spans-list").addEventListener("click", pick);
    $("listed-list").addEventListener("click", pick);
    $("phrases-file").addEventListener("change", (e) => loadPhrases(e.target.files[0]));
    $("repairs-list").addEventListener("click", (e) => {
      const b = e.target.closest("[data-repair]");
      if (!b) return;
      selectTab("tab-marked");
      const fix = $("view-marked").querySelector(`[data-fix="${Number(b.getAttribute("data-repair"))}"]`);
      if (fix) {
        fix.scrollIntoView({ block: "center" });
        fix.classList.remove("flash");
        void fix.offsetWidth; // restart the animation
        fix.classList.add("flash");
      }
    });
    $("view-source").addEventListener("click", (e) => {
      const c = e.target.closest("[data-candidate]");
      if (c) {
        state.candidate = Number(c.getAttribute("data-candidate"));
        renderTrace();
        const again = $("view-source").querySelector(`[data-candidate="${state.candidate}"]`);
        if (again) again.focus();
        return;
      }
      const f = e.target.closest("button[data-fact]");
      if (f) showFact(Number(f.getAttribute("data-fact")));
    });
    $("accept").addEventListener("click", () => decide("accepted"));
    $("close").addEventListener("click", () => {
      const i = state.selected;
      select(-1, false);
      const b = $("view-marked").querySelector(`[data-span="${i}"]`);
      if (b) b.focus();
    });
    $("reject").addEventListener("click", () => decide("rejected"));
    $("prev").addEventListener("click", () => select(Math.max(0, state.selected - 1), true));
    $("next").addEventListener("click", () => select(Math.min(state.report.spans.length - 1, state.selected + 1), true));
    document.addEventListener("keydown", (e) => {
      if (!state.report || state.selected < 0 || e.target === textarea || e.target.tagName === "INPUT") return;
      if (e.key === "a") decide("accepted");
      else if (e.key === "r") decide("rejected");
      else if (e.key === "n" || e.key === "j") $("next").click();
      else if (e.key === "p" || e.key === "k") $("prev").click();
      else if (e.key === "Escape") $("close").click();
    });
    for (const t of document.querySelectorAll("[role=tab]")) {
      t.addEventListener("click", () => selectTab(t.id));
      t.addEventListener("keydown", (e) => {
        const list = tabs();
        const at = list.indexOf(t);
        let next = -1;
        if (e.key === "ArrowRight") next = (at + 1) % list.length;
        else if (e.key === "ArrowLeft") next = (at - 1 + list.length) % list.length;
        else if (e.key === "Home") next = 0;
        else if (e.key === "End") next = list.length - 1;
        if (next >= 0) { e.preventDefault(); selectTab(list[next].id); list[next].focus(); }
      });
    }
    $("download-json").addEventListener("click", () => {
      const json = JSON.stringify(decidedReport(), null, 2);
      save(new Blob([json], { type: "application/json" }), `unspin-report-${stamp()}.json`);
    });
    $("download-html").addEventListener("click", async () => {
      try {
        showError("");
        save(await api("/v1/render/html", decidedReport(), "blob"), `unspin-report-${stamp()}.html`);
      } catch (err) { showError(err.message); }
    });
    updateCount();
  });
})();
