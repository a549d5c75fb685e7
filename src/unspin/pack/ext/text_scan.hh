// The screening mode's per-token loops, compiled: unspin.tokens' tokenizer and sentence splitter,
// and the loops of detect.gate and channel.eligible_flags over a pack's sorted string tables.
//
// Why: `unspin check --fast` spends most of its time in Python-level per-token work (a regex match,
// a Token, a lm_form and a set lookup per token, a vectorised vocabulary search per stage). Here the
// same decisions are made in one pass over the string's code points.
//
// Exactness: character classes are the ones Python's `re` and `str` use (Py_UNICODE_ISSPACE for \s,
// Py_UNICODE_ISALNUM for [^\W_], Py_UNICODE_ISDECIMAL for \d, str.isalpha/islower/isupper per code
// point), case mapping that is not plain ASCII is done by calling str.lower, and set membership by
// the frozensets the Python module defines (the rules are stated in unspin/tokens.py's docstrings;
// tests/test_native.py pins them). The only implementation of these rules. Included by kenlm_batch.cc.
#pragma once

#include <Python.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace textscan {

// ---- character classes, as Python sees them --------------------------------------------------------
enum : unsigned char { K_SPACE = 1, K_ALNUM = 2, K_DECIMAL = 4, K_ALPHA = 8, K_LOWER = 16, K_UPPER = 32 };
static unsigned char latin1[256];

inline bool is_space(Py_UCS4 c) { return c < 256 ? (latin1[c] & K_SPACE) : Py_UNICODE_ISSPACE(c); }
inline bool is_alnum(Py_UCS4 c) { return c < 256 ? (latin1[c] & K_ALNUM) : Py_UNICODE_ISALNUM(c); }
inline bool is_decimal(Py_UCS4 c) { return c < 256 ? (latin1[c] & K_DECIMAL) : Py_UNICODE_ISDECIMAL(c); }
inline bool is_alpha(Py_UCS4 c) { return c < 256 ? (latin1[c] & K_ALPHA) : Py_UNICODE_ISALPHA(c); }
inline bool is_lower(Py_UCS4 c) { return c < 256 ? (latin1[c] & K_LOWER) : Py_UNICODE_ISLOWER(c); }
inline bool is_upper(Py_UCS4 c) { return c < 256 ? (latin1[c] & K_UPPER) : Py_UNICODE_ISUPPER(c); }

inline void init_classes() {
  for (Py_UCS4 c = 0; c < 256; ++c) {
    unsigned char k = 0;
    if (Py_UNICODE_ISSPACE(c)) k |= K_SPACE;
    if (Py_UNICODE_ISALNUM(c)) k |= K_ALNUM;
    if (Py_UNICODE_ISDECIMAL(c)) k |= K_DECIMAL;
    if (Py_UNICODE_ISALPHA(c)) k |= K_ALPHA;
    if (Py_UNICODE_ISLOWER(c)) k |= K_LOWER;
    if (Py_UNICODE_ISUPPER(c)) k |= K_UPPER;
    latin1[c] = k;
  }
}

// ---- configuration: the Python objects the results are made of --------------------------------------
enum Kind : unsigned char { WORD = 0, NUMBER = 1, PUNCT = 2 };

struct Config {
  PyTypeObject *token = nullptr;  // unspin.tokens.Token
  PyObject *kinds[3] = {nullptr, nullptr, nullptr};  // the WORD, NUMBER and PUNCT strings
  std::vector<Py_UCS4> enders, closers;
  PyObject *abbreviations = nullptr;  // frozenset of str
  PyObject *lower_name = nullptr;  // "lower"
};
static Config cfg;

inline bool configured() { return cfg.token != nullptr; }

// There is no other implementation to fall back on: input of another shape than unspin's own (lists
// of unspin.tokens.Token, str forms) is a TypeError, and a call before configure_tokens a RuntimeError.
inline PyObject *unsupported(const char *fn, const char *what) {
  PyErr_Format(PyExc_TypeError, "unspin.pack._kenlm_batch.%s: unsupported input (%s)", fn, what);
  return nullptr;
}

inline PyObject *not_configured() {
  PyErr_SetString(PyExc_RuntimeError, "unspin.pack._kenlm_batch: configure_tokens was not called");
  return nullptr;
}

inline bool contains(const std::vector<Py_UCS4> &v, Py_UCS4 c) {
  for (Py_UCS4 x : v)
    if (x == c) return true;
  return false;
}

int single_chars(PyObject *iterable, std::vector<Py_UCS4> &out) {
  PyObject *seq = PySequence_Fast(iterable, "expected an iterable of one-character strings");
  if (!seq) return -1;
  out.clear();
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    PyObject *s = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyUnicode_CheckExact(s) || PyUnicode_GET_LENGTH(s) != 1) {
      Py_DECREF(seq);
      PyErr_SetString(PyExc_ValueError, "expected one-character strings");
      return -1;
    }
    out.push_back(PyUnicode_READ_CHAR(s, 0));
  }
  Py_DECREF(seq);
  return 0;
}

// configure_tokens(Token, WORD, NUMBER, PUNCT, enders, closers, abbreviations)
PyObject *configure_tokens(PyObject *, PyObject *args) {
  PyObject *token, *w, *n, *p, *enders, *closers, *abbreviations;
  if (!PyArg_ParseTuple(args, "OUUUOOO", &token, &w, &n, &p, &enders, &closers, &abbreviations)) return nullptr;
  if (!PyType_Check(token) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(token), &PyTuple_Type) ||
      reinterpret_cast<PyTypeObject *>(token)->tp_basicsize != PyTuple_Type.tp_basicsize ||
      reinterpret_cast<PyTypeObject *>(token)->tp_itemsize != PyTuple_Type.tp_itemsize) {
    PyErr_SetString(PyExc_TypeError, "Token must be a tuple subclass without extra fields");
    return nullptr;
  }
  if (!PyFrozenSet_CheckExact(abbreviations)) {
    PyErr_SetString(PyExc_TypeError, "abbreviations must be a frozenset");
    return nullptr;
  }
  std::vector<Py_UCS4> e, c;
  if (single_chars(enders, e) < 0 || single_chars(closers, c) < 0) return nullptr;
  if (!cfg.lower_name) {
    cfg.lower_name = PyUnicode_InternFromString("lower");
    if (!cfg.lower_name) return nullptr;
  }
  Py_INCREF(token);
  Py_XDECREF(reinterpret_cast<PyObject *>(cfg.token));
  cfg.token = reinterpret_cast<PyTypeObject *>(token);
  PyObject *ks[3] = {w, n, p};
  for (int i = 0; i < 3; ++i) {
    Py_INCREF(ks[i]);
    Py_XDECREF(cfg.kinds[i]);
    cfg.kinds[i] = ks[i];
  }
  Py_INCREF(abbreviations);
  Py_XDECREF(cfg.abbreviations);
  cfg.abbreviations = abbreviations;
  cfg.enders = e;
  cfg.closers = c;
  Py_RETURN_NONE;
}

// ---- the tokenizer: unspin.tokens._TOKEN_RE plus tokenize()'s reclassification ----------------------
struct Tok {
  Py_ssize_t s, e;
  Kind kind;
};

// Cut text[start:end) exactly as
//   (?P<number>\d+(?:[.,:]\d+)+(?![^\W_])|\d+(?![^\W_]))|(?P<word>[^\W_]+(?:['’][^\W_]+)*)|(?P<punct>[^\w\s]|_)
// with finditer(text, start, end), then tokenize()'s rules: a "word" without a letter ([^\W\d_]) is
// a number, and a word of 3+ characters ending in 's or ’s is split before the apostrophe.
template <typename CH>
void scan(const CH *d, Py_ssize_t start, Py_ssize_t end, std::vector<Tok> &out) {
  Py_ssize_t i = start;
  auto boundary = [&](Py_ssize_t p) { return p >= end || !is_alnum(d[p]); };  // (?![^\W_])
  while (i < end) {
    const Py_UCS4 c = d[i];
    if (is_space(c)) {  // no alternative matches whitespace; everything else starts a token
      ++i;
      continue;
    }
    if (is_decimal(c)) {
      Py_ssize_t e0 = i + 1;
      while (e0 < end && is_decimal(d[e0])) ++e0;
      // The longest run of [.,:]\d+ groups; backtracking can only stop at the end of a digit run
      // (anywhere else a digit follows and the look-ahead fails), so the candidates are the ends of
      // the groups, longest first, and then the bare digits.
      Py_ssize_t e = e0, before_last = e0;
      int groups = 0;
      while (e + 1 < end && (d[e] == '.' || d[e] == ',' || d[e] == ':') && is_decimal(d[e + 1])) {
        Py_ssize_t k = e + 2;
        while (k < end && is_decimal(d[k])) ++k;
        before_last = e;
        e = k;
        ++groups;
      }
      Py_ssize_t num_end = -1;
      if (groups > 0)
        num_end = boundary(e) ? e : before_last;  // before_last is followed by [.,:]: a boundary
      else if (boundary(e0))
        num_end = e0;
      if (num_end >= 0) {
        out.push_back({i, num_end, NUMBER});
        i = num_end;
        continue;
      }
      // else the word alternative (a digit is [^\W_])
    }
    if (is_alnum(c)) {
      Py_ssize_t j = i + 1;
      while (j < end && is_alnum(d[j])) ++j;
      while (j + 1 < end && (d[j] == '\'' || d[j] == 0x2019) && is_alnum(d[j + 1])) {
        j += 2;
        while (j < end && is_alnum(d[j])) ++j;
      }
      bool alpha = true;
      for (Py_ssize_t k = i; k < j && alpha; ++k) alpha = is_alpha(d[k]);
      if (!alpha) {
        bool letter = false;  // [^\W\d_]
        for (Py_ssize_t k = i; k < j && !letter; ++k) letter = is_alnum(d[k]) && !is_decimal(d[k]);
        if (!letter) {
          out.push_back({i, j, NUMBER});
          i = j;
          continue;
        }
        if (j - i > 2 && (d[j - 2] == '\'' || d[j - 2] == 0x2019) && (d[j - 1] == 's' || d[j - 1] == 'S')) {
          out.push_back({i, j - 2, WORD});
          out.push_back({j - 2, j, WORD});
          i = j;
          continue;
        }
      }
      out.push_back({i, j, WORD});
      i = j;
      continue;
    }
    out.push_back({i, i + 1, PUNCT});  // [^\w\s]|_
    ++i;
  }
}

void scan_any(PyObject *text, Py_ssize_t start, Py_ssize_t end, std::vector<Tok> &out) {
  switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: scan(PyUnicode_1BYTE_DATA(text), start, end, out); break;
    case PyUnicode_2BYTE_KIND: scan(PyUnicode_2BYTE_DATA(text), start, end, out); break;
    default: scan(PyUnicode_4BYTE_DATA(text), start, end, out); break;
  }
}

// A Token(text[s:e], s, e, kind), allocated the way tuple's own subtype constructor does.
PyObject *new_token(PyObject *text, const Tok &t) {
  PyObject *sub = PyUnicode_Substring(text, t.s, t.e);
  if (!sub) return nullptr;
  PyObject *a = PyLong_FromSsize_t(t.s);
  PyObject *b = a ? PyLong_FromSsize_t(t.e) : nullptr;
  if (!b) {
    Py_DECREF(sub);
    Py_XDECREF(a);
    return nullptr;
  }
  PyObject *tok = cfg.token->tp_alloc(cfg.token, 4);
  if (!tok) {
    Py_DECREF(sub);
    Py_DECREF(a);
    Py_DECREF(b);
    return nullptr;
  }
  PyObject *kind = cfg.kinds[t.kind];
  Py_INCREF(kind);
  PyTuple_SET_ITEM(tok, 0, sub);
  PyTuple_SET_ITEM(tok, 1, a);
  PyTuple_SET_ITEM(tok, 2, b);
  PyTuple_SET_ITEM(tok, 3, kind);
  return tok;
}

PyObject *token_list(PyObject *text, const Tok *toks, Py_ssize_t n) {
  PyObject *list = PyList_New(n);
  if (!list) return nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject *tok = new_token(text, toks[i]);
    if (!tok) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, i, tok);
  }
  return list;
}

// tokenize(text, start, end) -> list[Token]; the bounds already normalised by the caller
// (0 <= start <= end <= len(text)), as re's finditer(text, start, end) clamps them.
PyObject *tokenize(PyObject *, PyObject *args) {
  PyObject *text;
  Py_ssize_t start, end;
  if (!PyArg_ParseTuple(args, "Unn", &text, &start, &end)) return nullptr;
  if (!configured()) return not_configured();
  const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
  if (start < 0 || end > len || start > end) return unsupported("tokenize", "bounds outside the text");
  std::vector<Tok> toks;
  scan_any(text, start, end, toks);
  return token_list(text, toks.data(), static_cast<Py_ssize_t>(toks.size()));
}

// prev.text.lower() in _ABBREVIATIONS (1/0, -1 on error)
int abbreviation(PyObject *text, const Tok &t) {
  PyObject *sub = PyUnicode_Substring(text, t.s, t.e);
  if (!sub) return -1;
  PyObject *low = PyObject_CallMethodNoArgs(sub, cfg.lower_name);
  Py_DECREF(sub);
  if (!low) return -1;
  int r = PySet_Contains(cfg.abbreviations, low);
  Py_DECREF(low);
  return r;
}

template <typename CH>
int split_line(PyObject *text, const CH *d, const std::vector<Tok> &toks, std::vector<Py_ssize_t> &cuts) {
  // tokens.sentence_tokens for one line: the indices where a new sentence starts.
  const Py_ssize_t n = static_cast<Py_ssize_t>(toks.size());
  auto ch = [&](Py_ssize_t k) { return static_cast<Py_UCS4>(d[toks[k].s]); };  // punct tokens: one character
  Py_ssize_t i = 0;
  while (i < n) {
    if (toks[i].kind == PUNCT && contains(cfg.enders, ch(i))) {
      Py_ssize_t j = i + 1;
      while (j < n && toks[j].kind == PUNCT && (contains(cfg.enders, ch(j)) || contains(cfg.closers, ch(j)))) ++j;
      if (j >= n) break;
      const Tok &last = toks[j - 1], &nxt = toks[j];
      bool abbrev = false;
      if (ch(i) == '.' && i > 0 && toks[i - 1].e == toks[i].s) {
        const Tok &prev = toks[i - 1];
        int r = abbreviation(text, prev);
        if (r < 0) return -1;
        abbrev = r == 1 || (prev.e - prev.s == 1 && is_alpha(d[prev.s]));
      }
      if (nxt.s > last.e && !abbrev && !is_lower(d[nxt.s])) cuts.push_back(j);
      i = j;
      continue;
    }
    ++i;
  }
  return 0;
}

// sentence_tokens(text) -> list[list[Token]]
PyObject *sentence_tokens(PyObject *, PyObject *args) {
  PyObject *text;
  if (!PyArg_ParseTuple(args, "U", &text)) return nullptr;
  if (!configured()) return not_configured();
  const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
  const int kind = PyUnicode_KIND(text);
  const void *data = PyUnicode_DATA(text);
  PyObject *groups = PyList_New(0);
  if (!groups) return nullptr;
  std::vector<Tok> toks;
  std::vector<Py_ssize_t> cuts;
  Py_ssize_t pos = 0;
  while (pos < len) {  // lines: maximal runs of anything but "\n"
    if (PyUnicode_READ(kind, data, pos) == '\n') {
      ++pos;
      continue;
    }
    Py_ssize_t end = pos + 1;
    while (end < len && PyUnicode_READ(kind, data, end) != '\n') ++end;
    toks.clear();
    scan_any(text, pos, end, toks);
    const Py_ssize_t n = static_cast<Py_ssize_t>(toks.size());
    pos = end;
    if (n == 0) continue;
    cuts.clear();
    int r;
    switch (kind) {
      case PyUnicode_1BYTE_KIND: r = split_line(text, static_cast<const Py_UCS1 *>(data), toks, cuts); break;
      case PyUnicode_2BYTE_KIND: r = split_line(text, static_cast<const Py_UCS2 *>(data), toks, cuts); break;
      default: r = split_line(text, static_cast<const Py_UCS4 *>(data), toks, cuts); break;
    }
    if (r < 0) {
      Py_DECREF(groups);
      return nullptr;
    }
    cuts.push_back(n);
    // A fragment with no word in it (a stray quote after a full stop) joins the sentence before it.
    if (cuts.size() > 1) {
      bool all_punct = true;
      for (Py_ssize_t k = cuts[cuts.size() - 2]; k < n && all_punct; ++k) all_punct = toks[k].kind == PUNCT;
      if (all_punct) {
        cuts.erase(cuts.end() - 2);
      }
    }
    Py_ssize_t begin = 0;
    for (Py_ssize_t cut : cuts) {
      PyObject *group = token_list(text, toks.data() + begin, cut - begin);
      if (!group || PyList_Append(groups, group) < 0) {
        Py_XDECREF(group);
        Py_DECREF(groups);
        return nullptr;
      }
      Py_DECREF(group);
      begin = cut;
    }
  }
  return groups;
}

// ---- tokens as the later stages read them ---------------------------------------------------------
// Containers are read only when they are plain lists or tuples (the callers in unspin make lists of
// anything else, an iterator or a subclass with its own __iter__, first).
inline bool plain_sequence(PyObject *o) { return PyList_CheckExact(o) || PyTuple_CheckExact(o); }

// The text of a Token (borrowed), or nullptr when the object is not a Token holding a str.
inline PyObject *token_text(PyObject *tok) {
  if (Py_TYPE(tok) != cfg.token || PyTuple_GET_SIZE(tok) != 4) return nullptr;
  PyObject *t = PyTuple_GET_ITEM(tok, 0);
  return PyUnicode_CheckExact(t) ? t : nullptr;
}

// 1 when the token's kind is the given one, 0 when not, -1 when it is not a plain str.
inline int kind_is(PyObject *tok, Kind k) {
  PyObject *kind = PyTuple_GET_ITEM(tok, 3);
  if (kind == cfg.kinds[k]) return 1;
  if (!PyUnicode_CheckExact(kind)) return -1;
  return PyUnicode_Compare(kind, cfg.kinds[k]) == 0;
}

inline bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c'; }

// str.lower() of a token text as a new reference (the text itself when lower-case ASCII already).
PyObject *lowered(PyObject *text) {
  if (PyUnicode_IS_ASCII(text)) {
    const char *s = reinterpret_cast<const char *>(PyUnicode_1BYTE_DATA(text));
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t i = 0;
    while (i < n && !(s[i] >= 'A' && s[i] <= 'Z')) ++i;
    if (i == n) {
      Py_INCREF(text);
      return text;
    }
    std::string low(s, n);
    for (; i < n; ++i)
      if (low[i] >= 'A' && low[i] <= 'Z') low[i] = static_cast<char>(low[i] - 'A' + 'a');
    return PyUnicode_FromStringAndSize(low.data(), n);
  }
  return PyObject_CallMethodNoArgs(text, cfg.lower_name);
}

// unspin.tokens.lm_form, the form a token takes in the language model: str.lower(), then the right
// single quote as a straight apostrophe and every decimal digit (str.isdecimal) as "0". A new reference.
inline Py_UCS4 form_char(Py_UCS4 c) { return c == 0x2019 ? Py_UCS4('\'') : Py_UNICODE_ISDECIMAL(c) ? Py_UCS4('0') : c; }

PyObject *lm_form_of(PyObject *text) {
  PyObject *low = lowered(text);
  if (!low) return nullptr;
  const Py_ssize_t n = PyUnicode_GET_LENGTH(low);
  const int kind = PyUnicode_KIND(low);
  const void *data = PyUnicode_DATA(low);
  Py_UCS4 max = 0;
  bool changed = false;
  for (Py_ssize_t i = 0; i < n; ++i) {
    const Py_UCS4 c = PyUnicode_READ(kind, data, i), f = form_char(c);
    changed |= f != c;
    if (f > max) max = f;
  }
  if (!changed) return low;
  PyObject *out = PyUnicode_New(n, max);  // the new string's own widest character: a canonical str
  if (out) {
    const int okind = PyUnicode_KIND(out);
    void *odata = PyUnicode_DATA(out);
    for (Py_ssize_t i = 0; i < n; ++i) PyUnicode_WRITE(okind, odata, i, form_char(PyUnicode_READ(kind, data, i)));
  }
  Py_DECREF(low);
  return out;
}

PyObject *lm_form(PyObject *, PyObject *text) {
  if (!configured()) return not_configured();
  if (!PyUnicode_CheckExact(text)) {
    if (!PyUnicode_Check(text)) {
      PyErr_Format(PyExc_TypeError, "lm_form() takes a str, not %.100s", Py_TYPE(text)->tp_name);
      return nullptr;
    }
    PyObject *plain = PyObject_Str(text);  // a str subclass: its plain str
    if (!plain) return nullptr;
    PyObject *out = lm_form_of(plain);
    Py_DECREF(plain);
    return out;
  }
  return lm_form_of(text);
}

// The UTF-8 of lm_form(text) into `out`: 1, or 0 when the form is empty or holds ASCII whitespace (no
// token holds either: KenLM's vocabulary has no such word), or -1 with a Python error (a form that
// cannot be encoded, such as a lone surrogate). ASCII text is formed here without a new str.
int lm_form_utf8(PyObject *text, std::string &out) {
  if (PyUnicode_IS_ASCII(text)) {
    const char *s = reinterpret_cast<const char *>(PyUnicode_1BYTE_DATA(text));
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0) return 0;
    out.resize(n);
    for (Py_ssize_t i = 0; i < n; ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      else if (c >= '0' && c <= '9') c = '0';  // lm_form_of's rule for ASCII (which holds no ’)
      else if (ascii_space(c)) return 0;
      out[i] = c;
    }
    return 1;
  }
  PyObject *form = lm_form_of(text);
  if (!form) return -1;
  Py_ssize_t n;
  const char *s = PyUnicode_AsUTF8AndSize(form, &n);
  if (!s) {
    Py_DECREF(form);
    return -1;
  }
  out.assign(s, n);
  Py_DECREF(form);
  if (n == 0) return 0;
  for (char c : out)
    if (ascii_space(c)) return 0;
  return 1;
}

inline bool str_isalpha(PyObject *text) {
  const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
  if (n == 0) return false;
  const int kind = PyUnicode_KIND(text);
  const void *data = PyUnicode_DATA(text);
  for (Py_ssize_t i = 0; i < n; ++i)
    if (!is_alpha(PyUnicode_READ(kind, data, i))) return false;
  return true;
}

// ---- a pack's sorted string table (store.StringTable) with its counts -------------------------------
// Counts of the strings looked up lately. A binary search of a 9 MB table misses the cache on most of
// its ~18 steps, and text repeats its words (Zipf): the memo answers most lookups from a small hash
// table. The table is immutable, so a remembered count is the count. Bounded: cleared when full.
constexpr size_t MEMO_MAX = 1 << 16;

struct TableObject {
  PyObject_HEAD
  Py_buffer keys, counts;
  Py_ssize_t n, width;
  bool have_keys, have_counts;
  std::unordered_map<std::string, uint32_t> *memo;
};

void Table_dealloc(TableObject *self) {
  if (self->have_keys) PyBuffer_Release(&self->keys);
  if (self->have_counts) PyBuffer_Release(&self->counts);
  delete self->memo;
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject *>(self));
}

// Table(keys, width, counts): keys a C-contiguous array of `width`-byte NUL-padded strings sorted by
// bytes (store.StringTable.keys), counts a uint32 array of the same length.
int Table_init(TableObject *self, PyObject *args, PyObject *) {
  PyObject *keys, *counts;
  Py_ssize_t width;
  if (!PyArg_ParseTuple(args, "OnO", &keys, &width, &counts)) return -1;
  if (self->have_keys || self->have_counts) {
    PyErr_SetString(PyExc_RuntimeError, "Table already initialised");
    return -1;
  }
  if (PyObject_GetBuffer(keys, &self->keys, PyBUF_C_CONTIGUOUS) < 0) return -1;
  self->have_keys = true;
  if (PyObject_GetBuffer(counts, &self->counts, PyBUF_C_CONTIGUOUS) < 0) return -1;
  self->have_counts = true;
  if (width <= 0 || self->keys.len % width != 0 || self->counts.len != (self->keys.len / width) * 4) {
    PyErr_SetString(PyExc_ValueError, "keys and counts do not describe one table");
    return -1;
  }
  self->width = width;
  self->n = self->keys.len / width;
  self->memo = new std::unordered_map<std::string, uint32_t>();
  self->memo->reserve(MEMO_MAX);
  return 0;
}

// The row of the UTF-8 string s (-1 when absent), as StringTable.find_many decides it: the query is
// NUL-padded to the width (too long or empty: absent) and compared bytewise, like numpy's `S` arrays.
Py_ssize_t table_find(const TableObject *t, const char *s, Py_ssize_t len) {
  if (len <= 0 || len > t->width || t->n == 0) return -1;
  bool all_nul = true;
  for (Py_ssize_t i = 0; i < len && all_nul; ++i) all_nul = s[i] == 0;
  if (all_nul) return -1;  // reads back as b"", which find_many never matches
  const char *base = static_cast<const char *>(t->keys.buf);
  const Py_ssize_t w = t->width;
  auto cmp = [&](Py_ssize_t row) {  // key(row) <=> query
    const char *k = base + row * w;
    int r = std::memcmp(k, s, len);
    if (r != 0) return r;
    for (Py_ssize_t i = len; i < w; ++i)
      if (k[i] != 0) return 1;
    return 0;
  };
  Py_ssize_t lo = 0, hi = t->n;
  while (lo < hi) {
    Py_ssize_t mid = lo + (hi - lo) / 2;
    if (cmp(mid) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < t->n && cmp(lo) == 0 ? lo : -1;
}

// The count of a str (0 when absent); -1 with a Python error when it cannot be encoded.
long long table_count(TableObject *t, PyObject *word) {
  Py_ssize_t len;
  const char *s = PyUnicode_AsUTF8AndSize(word, &len);
  if (!s) return -1;
  if (len > t->width || !t->memo) {
    Py_ssize_t row = table_find(t, s, len);
    return row < 0 ? 0 : static_cast<long long>(static_cast<const uint32_t *>(t->counts.buf)[row]);
  }
  std::string key(s, len);
  auto it = t->memo->find(key);
  if (it != t->memo->end()) return it->second;
  Py_ssize_t row = table_find(t, s, len);
  uint32_t count = row < 0 ? 0 : static_cast<const uint32_t *>(t->counts.buf)[row];
  if (t->memo->size() >= MEMO_MAX) t->memo->clear();
  t->memo->emplace(std::move(key), count);
  return count;
}

// Table.counts(words) -> list[int] (for tests: the same as Vocabulary.counts / cased_counts)
PyObject *Table_counts(TableObject *self, PyObject *arg) {
  PyObject *seq = PySequence_Fast(arg, "words must be a sequence");
  if (!seq) return nullptr;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  PyObject *out = PyList_New(n);
  if (!out) {
    Py_DECREF(seq);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject *w = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyUnicode_Check(w)) {
      PyErr_SetString(PyExc_TypeError, "words must be str");
      Py_DECREF(out);
      Py_DECREF(seq);
      return nullptr;
    }
    long long c = table_count(self, w);
    PyObject *v = c < 0 ? nullptr : PyLong_FromLongLong(c);
    if (!v) {
      Py_DECREF(out);
      Py_DECREF(seq);
      return nullptr;
    }
    PyList_SET_ITEM(out, i, v);
  }
  Py_DECREF(seq);
  return out;
}

PyMethodDef Table_methods[] = {
    {"counts", reinterpret_cast<PyCFunction>(Table_counts), METH_O, "counts(words) -> list[int], 0 when absent"},
    {nullptr, nullptr, 0, nullptr}};

PyTypeObject TableType = {PyVarObject_HEAD_INIT(nullptr, 0)};

inline TableObject *as_table(PyObject *o) {
  return PyObject_TypeCheck(o, &TableType) ? reinterpret_cast<TableObject *>(o) : nullptr;
}

// ---- detect.gate's counts ------------------------------------------------------------------------
// gate_counts(tokens, function_words, table, limit) ->
//   (tokens, words, alpha words (at most limit), of those function words, of those known).
PyObject *gate_counts(PyObject *, PyObject *args) {
  PyObject *tokens, *function_words, *table_obj;
  Py_ssize_t limit;
  if (!PyArg_ParseTuple(args, "OOOn", &tokens, &function_words, &table_obj, &limit)) return nullptr;
  TableObject *table = as_table(table_obj);
  if (!configured()) return not_configured();
  if (!table || !PyAnySet_Check(function_words) || !PyList_CheckExact(tokens))
    return unsupported("gate_counts", "a list of Tokens, a set and a Table expected");
  const Py_ssize_t n = PyList_GET_SIZE(tokens);
  Py_ssize_t words = 0, alpha = 0, function = 0, known = 0;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject *tok = PyList_GET_ITEM(tokens, i);
    PyObject *text = token_text(tok);
    if (!text) return unsupported("gate_counts", "not a Token");
    int w = kind_is(tok, WORD);
    if (w < 0) return unsupported("gate_counts", "a Token whose kind is not a str");
    if (!w) continue;
    ++words;
    if (alpha >= limit || !str_isalpha(text)) continue;
    ++alpha;
    PyObject *form = lowered(text);  // lm_form of an alphabetic token
    if (!form) return nullptr;
    int f = PySet_Contains(function_words, form);
    long long c = f < 0 ? -1 : table_count(table, form);
    Py_DECREF(form);
    if (f < 0 || c < 0) return nullptr;
    function += f;
    known += c > 0;
  }
  return Py_BuildValue("(nnnnn)", n, words, alpha, function, known);
}

// ---- channel.eligible_flags ------------------------------------------------------------------------
// eligible_flags(sentences, function_words, cased_table or None) -> list[list[bool]].
PyObject *eligible_flags(PyObject *, PyObject *args) {
  PyObject *sentences, *function_words, *table_obj;
  if (!PyArg_ParseTuple(args, "OOO", &sentences, &function_words, &table_obj)) return nullptr;
  TableObject *table = table_obj == Py_None ? nullptr : as_table(table_obj);
  if (!configured() || (table_obj != Py_None && !table) || !PyAnySet_Check(function_words) ||
      !plain_sequence(sentences))
    return unsupported("eligible_flags", "lists of Tokens, a set and a Table or None expected");
  const Py_ssize_t n_sent = PySequence_Fast_GET_SIZE(sentences);
  for (Py_ssize_t si = 0; si < n_sent; ++si)
    if (!plain_sequence(PySequence_Fast_GET_ITEM(sentences, si))) return unsupported("eligible_flags", "a sentence that is not a list or tuple");
  PyObject *sents = PySequence_Fast(sentences, "sentences must be a sequence");
  if (!sents) return nullptr;
  PyObject *out = PyList_New(n_sent);
  if (!out) {
    Py_DECREF(sents);
    return nullptr;
  }
  for (Py_ssize_t si = 0; si < n_sent; ++si) {
    PyObject *sent = PySequence_Fast(PySequence_Fast_GET_ITEM(sents, si), "a sentence must be a sequence");
    if (!sent) goto fail;
    {
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(sent);
      PyObject *row = PyList_New(n);
      if (!row) {
        Py_DECREF(sent);
        goto fail;
      }
      PyList_SET_ITEM(out, si, row);
      for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject *tok = PySequence_Fast_GET_ITEM(sent, k);
        PyObject *text = token_text(tok);
        int w = text ? kind_is(tok, WORD) : -1;
        if (w < 0) {
          Py_DECREF(sent);
          goto unsupported;
        }
        bool ok = w && PyUnicode_GET_LENGTH(text) >= 2 && str_isalpha(text);
        if (ok) {
          PyObject *form = lowered(text);  // lm_form of an alphabetic token
          if (!form) {
            Py_DECREF(sent);
            goto fail;
          }
          int f = PySet_Contains(function_words, form);
          if (f < 0) {
            Py_DECREF(form);
            Py_DECREF(sent);
            goto fail;
          }
          ok = !f;
          // A capitalised word mid-sentence: eligible when the corpus mostly writes it in lower case.
          if (ok && table && k > 0 && is_upper(PyUnicode_READ_CHAR(text, 0))) {
            long long lower_count = table_count(table, form);
            long long cased_count = lower_count < 0 ? -1 : table_count(table, text);
            if (cased_count < 0) {
              Py_DECREF(form);
              Py_DECREF(sent);
              goto fail;
            }
            ok = lower_count > cased_count;
          }
          Py_DECREF(form);
        }
        PyObject *b = ok ? Py_True : Py_False;
        Py_INCREF(b);
        PyList_SET_ITEM(row, k, b);
      }
    }
    Py_DECREF(sent);
  }
  Py_DECREF(sents);
  return out;
unsupported:
  Py_DECREF(out);
  Py_DECREF(sents);
  return unsupported("eligible_flags", "not a Token");
fail:
  Py_DECREF(out);
  Py_DECREF(sents);
  return nullptr;
}

PyMethodDef module_methods[] = {
    {"configure_tokens", configure_tokens, METH_VARARGS,
     "configure_tokens(Token, WORD, NUMBER, PUNCT, enders, closers, abbreviations): the objects tokens are made of"},
    {"tokenize", tokenize, METH_VARARGS, "tokenize(text, start, end) -> list[Token] (unspin.tokens.tokenize)"},
    {"lm_form", lm_form, METH_O, "lm_form(text) -> str (unspin.tokens.lm_form)"},
    {"sentence_tokens", sentence_tokens, METH_VARARGS,
     "sentence_tokens(text) -> list[list[Token]] (unspin.tokens.sentence_tokens)"},
    {"gate_counts", gate_counts, METH_VARARGS,
     "gate_counts(tokens, function_words, table, limit) -> (tokens, words, alpha, function, known)"},
    {"eligible_flags", eligible_flags, METH_VARARGS,
     "eligible_flags(sentences, function_words, cased_table_or_None) -> list[list[bool]]"},
    {nullptr, nullptr, 0, nullptr}};

int ready() {
  init_classes();
  TableType.tp_name = "unspin.pack._kenlm_batch.Table";
  TableType.tp_basicsize = sizeof(TableObject);
  TableType.tp_flags = Py_TPFLAGS_DEFAULT;
  TableType.tp_new = PyType_GenericNew;
  TableType.tp_init = reinterpret_cast<initproc>(Table_init);
  TableType.tp_dealloc = reinterpret_cast<destructor>(Table_dealloc);
  TableType.tp_methods = Table_methods;
  return PyType_Ready(&TableType);
}

int add_types(PyObject *m) {
  Py_INCREF(&TableType);
  if (PyModule_AddObject(m, "Table", reinterpret_cast<PyObject *>(&TableType)) < 0) {
    Py_DECREF(&TableType);
    return -1;
  }
  return 0;
}

}  // namespace textscan
