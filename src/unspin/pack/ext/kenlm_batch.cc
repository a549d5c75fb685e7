// Batched n-gram scoring over a KenLM binary, for unspin's language pack.
//
// Why: from Python, each KenLM lookup costs a Python->Cython call, a str->bytes conversion and a
// vocabulary hash per word; scoring one n-gram of order 4 from scratch takes four of them. Here a
// whole batch crosses the boundary once: words are mapped to vocabulary ids once per distinct
// string, and each n-gram is scored by KenLM's C++ directly. Built by setup.py (every pip install)
// against KenLM's query code in third_party/kenlm; unspin has no other implementation of these rules.
//
// API (module unspin.pack._kenlm_batch):
//   Model(path)                       open a KenLM binary (mmap, lazy)
//   Model.score_ngrams(ngrams, out)   ngrams: sequence of sequences of str; out: writable float64
//                                     buffer of len(ngrams); writes log10 P(last | rest). An n-gram
//                                     starting with "<s>" starts from the sentence-begin state.
//   Model.screen_counts(sentences, flags)
//                                     detect.screen's language-model pass over a whole document
//   Model.window_gains(forms, groups) decoder.preselect_scored's window scores for one sentence
//
// and, in text_scan.hh (no KenLM involved), the screening mode's other per-token loops:
//   configure_tokens, tokenize, sentence_tokens   unspin.tokens, character for character
//   Table(keys, counts)                           a pack's sorted string table with its counts
//   gate_counts, eligible_flags                   detect.gate's and channel.eligible_flags' loops
//
// These functions are the only implementation of their rules (tests/test_native.py pins their answers
// to hand-known values and to KenLM's own scores); input of another shape than unspin's raises TypeError.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "lm/model.hh"
#include "lm/state.hh"
#include "lm/virtual_interface.hh"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "text_scan.hh"

namespace {

struct ModelObject {
  PyObject_HEAD
  lm::base::Model *model;
  unsigned char order;
};

void Model_dealloc(ModelObject *self) {
  delete self->model;
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject *>(self));
}

int Model_init(ModelObject *self, PyObject *args, PyObject *) {
  const char *path;
  if (!PyArg_ParseTuple(args, "s", &path)) return -1;
  try {
    lm::ngram::Config config;
    config.load_method = util::LAZY;
    config.messages = nullptr;
    self->model = lm::ngram::LoadVirtual(path, config);
    self->order = self->model->Order();
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_OSError, e.what());
    return -1;
  }
  return 0;
}

PyObject *Model_score_ngrams(ModelObject *self, PyObject *args) {
  PyObject *seq_obj;
  Py_buffer out;
  if (!PyArg_ParseTuple(args, "Ow*", &seq_obj, &out)) return nullptr;
  std::unique_ptr<Py_buffer, void (*)(Py_buffer *)> out_guard(&out, PyBuffer_Release);
  PyObject *seq = PySequence_Fast(seq_obj, "ngrams must be a sequence");
  if (!seq) return nullptr;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (out.len < static_cast<Py_ssize_t>(n * sizeof(double))) {
    Py_DECREF(seq);
    PyErr_SetString(PyExc_ValueError, "output buffer too small");
    return nullptr;
  }
  double *dst = static_cast<double *>(out.buf);
  const lm::base::Vocabulary &vocab = self->model->BaseVocabulary();
  const lm::WordIndex bos = vocab.BeginSentence();
  // Word ids by the identity of the Python string: a batch repeats the same few thousand words.
  std::unordered_map<PyObject *, lm::WordIndex> ids;
  ids.reserve(4096);
  std::vector<lm::WordIndex> words, hist, prev_hist, out_ctx;
  lm::ngram::State prev_hist_state, out_state;
  bool have_prev = false, prev_flag = false, out_flag = false;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
    // Ids are cached by string identity only while the strings are owned by the caller's
    // tuples/lists (alive for the whole call); other sequences may hand out temporaries.
    const bool cacheable = PyTuple_Check(item) || PyList_Check(item);
    PyObject *ng = PySequence_Fast(item, "each n-gram must be a sequence");
    if (!ng) { Py_DECREF(seq); return nullptr; }
    Py_ssize_t k = PySequence_Fast_GET_SIZE(ng);
    words.clear();
    for (Py_ssize_t j = 0; j < k; ++j) {
      PyObject *w = PySequence_Fast_GET_ITEM(ng, j);
      if (cacheable) {
        auto it = ids.find(w);
        if (it != ids.end()) { words.push_back(it->second); continue; }
      }
      Py_ssize_t len;
      const char *s = PyUnicode_AsUTF8AndSize(w, &len);
      if (!s) { Py_DECREF(ng); Py_DECREF(seq); return nullptr; }
      lm::WordIndex id = vocab.Index(StringPiece(s, len));
      if (cacheable) ids.emplace(w, id);
      words.push_back(id);
    }
    Py_DECREF(ng);
    if (words.empty()) { dst[i] = 0.0; continue; }
    size_t start = 0;
    const size_t last = words.size() - 1;
    bool sentence_start = words[0] == bos;
    if (sentence_start) start = 1;
    // Only the last order-1 words of the history matter.
    if (last - start > static_cast<size_t>(self->order - 1)) {
      start = last - (self->order - 1);
      sentence_start = false;
    }
    hist.assign(words.begin() + start, words.begin() + last);
    // The history's state: reuse the previous n-gram's history state (candidates in one context)
    // or its output state (sliding windows), else score the history from scratch.
    const lm::ngram::State *from;
    if (have_prev && sentence_start == prev_flag && hist == prev_hist) {
      from = &prev_hist_state;
    } else if (have_prev && sentence_start == out_flag && hist == out_ctx) {
      prev_hist_state = out_state;
      from = &prev_hist_state;
    } else {
      lm::ngram::State tmp[2];
      int cur = 0;
      if (sentence_start) self->model->BeginSentenceWrite(&tmp[cur]);
      else self->model->NullContextWrite(&tmp[cur]);
      for (size_t j = start; j < last; ++j) {
        self->model->BaseScore(&tmp[cur], words[j], &tmp[1 - cur]);
        cur = 1 - cur;
      }
      prev_hist_state = tmp[cur];
      from = &prev_hist_state;
    }
    prev_flag = sentence_start;
    prev_hist = hist;
    dst[i] = self->model->BaseScore(from, words[last], &out_state);
    out_ctx = hist;
    out_ctx.push_back(words[last]);
    out_flag = sentence_start;
    if (out_ctx.size() > static_cast<size_t>(self->order - 1)) {
      out_ctx.erase(out_ctx.begin(), out_ctx.end() - (self->order - 1));
      out_flag = false;
    }
    have_prev = true;
  }
  Py_DECREF(seq);
  Py_RETURN_NONE;
}

// detect.screen's pass: per sentence, KenLM's full_scores (bos and eos) over the tokens' lm_form,
// and each flagged in-vocabulary token's counts and PMI gain, accumulated in token order
// and with its arithmetic (float scores widened to double, as the kenlm module hands them to Python).
// Words are looked up the way the kenlm module does (as C strings: up to a NUL). Returns
// (count, hits, low, pmi_sum).
PyObject *Model_screen_counts(ModelObject *self, PyObject *args) {
  PyObject *sentences, *flags;
  if (!PyArg_ParseTuple(args, "OO", &sentences, &flags)) return nullptr;
  if (!textscan::configured() || !textscan::plain_sequence(sentences) || !textscan::plain_sequence(flags))
    return textscan::unsupported("screen_counts", "lists of lists of Tokens and of flags expected");
  const Py_ssize_t n_sent = PySequence_Fast_GET_SIZE(sentences);
  if (PySequence_Fast_GET_SIZE(flags) != n_sent) {
    PyErr_SetString(PyExc_ValueError, "screen_counts: flags and sentences differ in length");
    return nullptr;
  }
  for (Py_ssize_t si = 0; si < n_sent; ++si)
    if (!textscan::plain_sequence(PySequence_Fast_GET_ITEM(sentences, si)) ||
        !textscan::plain_sequence(PySequence_Fast_GET_ITEM(flags, si)))
      return textscan::unsupported("screen_counts", "a sentence or a row of flags that is not a list or tuple");
  PyObject *sents = PySequence_Fast(sentences, "sentences must be a sequence");
  if (!sents) return nullptr;
  PyObject *fls = PySequence_Fast(flags, "flags must be a sequence");
  if (!fls) { Py_DECREF(sents); return nullptr; }
  const lm::base::Vocabulary &vocab = self->model->BaseVocabulary();
  const lm::WordIndex eos = vocab.EndSentence();
  std::vector<lm::WordIndex> ids;
  std::vector<float> prob;
  std::vector<unsigned char> len;
  std::vector<char> counted;
  std::string form;
  lm::ngram::State st[2], null_state, scratch;
  self->model->NullContextWrite(&null_state);
  long long count = 0, hits = 0, low = 0;
  double pmi_sum = 0.0;
  PyObject *result = nullptr;
  for (Py_ssize_t si = 0; si < n_sent; ++si) {
    PyObject *sent = PySequence_Fast(PySequence_Fast_GET_ITEM(sents, si), "a sentence must be a sequence");
    if (!sent) goto done;
    {
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(sent);
      if (n == 0) { Py_DECREF(sent); continue; }
      PyObject *ok = PySequence_Fast(PySequence_Fast_GET_ITEM(fls, si), "flags must be sequences");
      if (!ok) { Py_DECREF(sent); goto done; }
      ids.resize(n);
      for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject *text = textscan::token_text(PySequence_Fast_GET_ITEM(sent, k));
        if (!text) { Py_DECREF(ok); Py_DECREF(sent); textscan::unsupported("screen_counts", "not a Token"); goto done; }
        int r = textscan::lm_form_utf8(text, form);
        if (r < 0) { Py_DECREF(ok); Py_DECREF(sent); goto done; }
        if (r == 0) { Py_DECREF(ok); Py_DECREF(sent); PyErr_SetString(PyExc_ValueError, "screen_counts: a token whose form is empty or holds a space"); goto done; }
        ids[k] = vocab.Index(StringPiece(form.data(), strnlen(form.data(), form.size())));
      }
      // Every token needs its flag: a short row is an IndexError.
      if (PySequence_Fast_GET_SIZE(ok) < n) { Py_DECREF(ok); Py_DECREF(sent); PyErr_SetString(PyExc_IndexError, "screen_counts: a row of flags shorter than its sentence"); goto done; }
      // Which tokens count (eligible and in the vocabulary), and how far the scores are needed: a
      // counted token reads its own score and the next one's (</s> after the last token), so the
      // scores past the last counted token's successor are never read and not computed.
      counted.assign(n, 0);
      Py_ssize_t need = 0;
      for (Py_ssize_t k = 0; k < n; ++k) {
        int flag = PyObject_IsTrue(PySequence_Fast_GET_ITEM(ok, k));
        if (flag < 0) { Py_DECREF(ok); Py_DECREF(sent); goto done; }
        if (flag && ids[k] != 0) {
          counted[k] = 1;
          need = k + 2;
        }
      }
      prob.resize(n + 1);
      len.resize(n + 1);
      {
        int cur = 0;
        self->model->BeginSentenceWrite(&st[cur]);
        for (Py_ssize_t k = 0; k < n && k < need; ++k) {
          lm::FullScoreReturn ret = self->model->BaseFullScore(&st[cur], ids[k], &st[1 - cur]);
          prob[k] = ret.prob;
          len[k] = ret.ngram_length;
          cur = 1 - cur;
        }
        if (need > n) {
          lm::FullScoreReturn ret = self->model->BaseFullScore(&st[cur], eos, &st[1 - cur]);
          prob[n] = ret.prob;
          len[n] = ret.ngram_length;
        }
      }
      const Py_ssize_t last = n - 1;
      for (Py_ssize_t k = 0; k < n; ++k) {
        if (!counted[k]) continue;  // not eligible, or out of vocabulary
        ++count;
        if (len[k] <= 1 && len[k + 1] <= 1) ++hits;
        double gain = static_cast<double>(prob[k]) -
                      static_cast<double>(self->model->BaseScore(&null_state, ids[k], &scratch));
        if (k < last)
          gain += static_cast<double>(prob[k + 1]) -
                  static_cast<double>(self->model->BaseScore(&null_state, ids[k + 1], &scratch));
        pmi_sum += gain;
        low += gain < 0;
      }
      Py_DECREF(ok);
    }
    Py_DECREF(sent);
  }
  result = Py_BuildValue("(LLLd)", count, hits, low, pmi_sum);
done:
  Py_DECREF(sents);
  Py_DECREF(fls);
  return result;
}

// decoder.preselect_scored's window scores for one sentence: for each group (i, j, candidates),
// the log10 probability of every candidate followed by the right context, minus that of the observed
// words forms[i:j] followed by it, all from the state after the left context (the sentence start
// when the window reaches it). Sums run in double over the float scores, left to right.
double continuation(const lm::base::Model *model, const lm::ngram::State &from, const lm::WordIndex *words,
                    size_t n) {
  lm::ngram::State st[2];
  st[0] = from;
  int cur = 0;
  double total = 0.0;
  for (size_t k = 0; k < n; ++k) {
    total += static_cast<double>(model->BaseScore(&st[cur], words[k], &st[1 - cur]));
    cur = 1 - cur;
  }
  return total;
}

PyObject *Model_window_gains(ModelObject *self, PyObject *args) {
  PyObject *forms_obj, *groups_obj;
  if (!PyArg_ParseTuple(args, "OO", &forms_obj, &groups_obj)) return nullptr;
  if (!PyList_Check(forms_obj) || !PyList_Check(groups_obj)) return textscan::unsupported("window_gains", "two lists expected");
  const lm::base::Vocabulary &vocab = self->model->BaseVocabulary();
  auto index = [&vocab](PyObject *w, lm::WordIndex *out) -> bool {
    if (!PyUnicode_Check(w)) return false;
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(w, &len);
    if (!s) return false;
    *out = vocab.Index(StringPiece(s, len));
    return true;
  };
  const Py_ssize_t n = PyList_GET_SIZE(forms_obj);
  std::vector<lm::WordIndex> ids(n);
  for (Py_ssize_t k = 0; k < n; ++k) {
    if (!index(PyList_GET_ITEM(forms_obj, k), &ids[k])) {
      if (PyErr_Occurred()) return nullptr;
      return textscan::unsupported("window_gains", "a form that is not a str");
    }
  }
  const Py_ssize_t ctx = self->order - 1;
  const lm::WordIndex eos = vocab.EndSentence();
  PyObject *out = PyList_New(0);
  if (!out) return nullptr;
  std::vector<lm::WordIndex> seq;
  const Py_ssize_t n_groups = PyList_GET_SIZE(groups_obj);
  for (Py_ssize_t g = 0; g < n_groups; ++g) {
    PyObject *group = PyList_GET_ITEM(groups_obj, g);
    Py_ssize_t i, j;
    PyObject *cands;
    if (!PyTuple_Check(group) || !PyArg_ParseTuple(group, "nnO", &i, &j, &cands) || !PyList_Check(cands) ||
        i < 0 || j < i || j > n) {
      PyErr_Clear();
      Py_DECREF(out);
      return textscan::unsupported("window_gains", "a group that is not (i, j, [candidates]) within the forms");
    }
    lm::ngram::State st[2];
    int cur = 0;
    if (i - ctx < 0) self->model->BeginSentenceWrite(&st[cur]);
    else self->model->NullContextWrite(&st[cur]);
    for (Py_ssize_t k = i - ctx < 0 ? 0 : i - ctx; k < i; ++k) {
      self->model->BaseScore(&st[cur], ids[k], &st[1 - cur]);
      cur = 1 - cur;
    }
    const lm::ngram::State start = st[cur];
    std::vector<lm::WordIndex> right(ids.begin() + j, ids.begin() + std::min(n, j + ctx));
    if (j + ctx > n) right.push_back(eos);
    seq.assign(ids.begin() + i, ids.begin() + j);
    seq.insert(seq.end(), right.begin(), right.end());
    const double base = continuation(self->model, start, seq.data(), seq.size());
    const Py_ssize_t n_cands = PyList_GET_SIZE(cands);
    for (Py_ssize_t c = 0; c < n_cands; ++c) {
      PyObject *words = PyList_GET_ITEM(cands, c);
      if (!PyTuple_Check(words)) { Py_DECREF(out); return textscan::unsupported("window_gains", "a candidate that is not a tuple"); }
      seq.clear();
      for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(words); ++k) {
        lm::WordIndex id;
        if (!index(PyTuple_GET_ITEM(words, k), &id)) {
          Py_DECREF(out);
          if (PyErr_Occurred()) return nullptr;
          return textscan::unsupported("window_gains", "a candidate word that is not a str");
        }
        seq.push_back(id);
      }
      seq.insert(seq.end(), right.begin(), right.end());
      PyObject *gain = PyFloat_FromDouble(continuation(self->model, start, seq.data(), seq.size()) - base);
      if (!gain || PyList_Append(out, gain) < 0) {
        Py_XDECREF(gain);
        Py_DECREF(out);
        return nullptr;
      }
      Py_DECREF(gain);
    }
  }
  return out;
}

PyObject *Model_order(ModelObject *self, void *) { return PyLong_FromLong(self->order); }

PyMethodDef Model_methods[] = {
    {"score_ngrams", reinterpret_cast<PyCFunction>(Model_score_ngrams), METH_VARARGS,
     "score_ngrams(ngrams, out): write log10 P(last | rest) of each n-gram into the float64 buffer out"},
    {"screen_counts", reinterpret_cast<PyCFunction>(Model_screen_counts), METH_VARARGS,
     "screen_counts(sentences, flags) -> (count, hits, low, pmi_sum) of detect.screen"},
    {"window_gains", reinterpret_cast<PyCFunction>(Model_window_gains), METH_VARARGS,
     "window_gains(forms, [(i, j, [candidate word tuples])]) -> flat list of decoder.preselect_scored's "
     "window gains"},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef Model_getset[] = {{"order", reinterpret_cast<getter>(Model_order), nullptr, "n-gram order", nullptr},
                              {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject ModelType = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_kenlm_batch", "Batched KenLM n-gram scoring and text scanning.", -1,
                          textscan::module_methods};

}  // namespace

PyMODINIT_FUNC PyInit__kenlm_batch(void) {
  ModelType.tp_name = "unspin.pack._kenlm_batch.Model";
  ModelType.tp_basicsize = sizeof(ModelObject);
  ModelType.tp_flags = Py_TPFLAGS_DEFAULT;
  ModelType.tp_new = PyType_GenericNew;
  ModelType.tp_init = reinterpret_cast<initproc>(Model_init);
  ModelType.tp_dealloc = reinterpret_cast<destructor>(Model_dealloc);
  ModelType.tp_methods = Model_methods;
  ModelType.tp_getset = Model_getset;
  if (PyType_Ready(&ModelType) < 0) return nullptr;
  if (textscan::ready() < 0) return nullptr;
  PyObject *m = PyModule_Create(&module_def);
  if (!m) return nullptr;
  if (textscan::add_types(m) < 0) {
    Py_DECREF(m);
    return nullptr;
  }
  Py_INCREF(&ModelType);
  if (PyModule_AddObject(m, "Model", reinterpret_cast<PyObject *>(&ModelType)) < 0) {
    Py_DECREF(&ModelType);
    Py_DECREF(m);
    return nullptr;
  }
  // unspin.native refuses a build of other sources (a stale in-place build): bump with any change to
  // a function's signature or answers.
  if (PyModule_AddIntConstant(m, "API_VERSION", 2) < 0) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
