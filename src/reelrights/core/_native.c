/* reelrights.core._native: the byte work of verifying many proof files, in C.
 *
 * Functions, each the fast path of a pure-Python one that stays the reference (and the
 * fallback where this module was not built):
 *
 *   split_proof(data, prefix, head, mid, needles)
 *       the part of reelrights.verify.tlog_proof._parse_fast that reads bytes: the header, the
 *       index line, the inclusion proof's hash lines and the subject entry inside the extra
 *       line (base64 of JSON holding base64). It answers None for anything that is not exactly
 *       as TlogProof.format writes it (the general parser then decides and words the error), so
 *       an answer is always what the general parser would give.
 *
 *   walk_inclusion(nodes, leaf_hash, index, size, proof, root, max_nodes)
 *       reelrights.verify.inclusion.NodeMemo.verify's walk (RFC 9162 2.1.3.2 with remembered
 *       upper nodes): True when the proof leads to the root (and the new nodes are remembered),
 *       False otherwise (the caller raises the worded ProofError; nothing is remembered), None
 *       when the index, size or bound is not a 64-bit unsigned number, or a hash is not exactly
 *       bytes (the caller's Python walk then decides).
 *
 *   frozen_new(cls, names, *values), leaf_hash(entry)
 *       a frozen dataclass built as its __init__ builds it; SHA-256(0x00 || entry).
 *
 *   may_hold_float(data)
 *       False when no number in JSON text has a fraction or an exponent: then the parsed value
 *       holds no float, which reelrights.core.canonical otherwise finds by walking it.
 *
 * All read untrusted input: every read is bounded by a length checked first. No I/O and no
 * state between calls (the GIL is held throughout; no Python code runs under a borrowed
 * reference).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co.: no provider lookup per 65-byte node */
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

static signed char B64[256];

static void b64_init(void) {
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(B64, -1, sizeof B64);
    for (int i = 0; i < 64; i++) B64[(unsigned char)alphabet[i]] = (signed char)i;
}

/* Decode n base64 characters (n % 4 == 0, no padding, each in the alphabet) into out
 * (n / 4 * 3 bytes). 0, or -1 at the first character outside the alphabet. */
static int b64_groups(const unsigned char *in, Py_ssize_t n, unsigned char *out) {
    for (Py_ssize_t i = 0; i < n; i += 4) {
        int a = B64[in[i]], b = B64[in[i + 1]], c = B64[in[i + 2]], d = B64[in[i + 3]];
        if ((a | b | c | d) < 0) return -1;
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | (uint32_t)d;
        *out++ = (unsigned char)(v >> 16);
        *out++ = (unsigned char)(v >> 8);
        *out++ = (unsigned char)v;
    }
    return 0;
}

/* The canonical base64 of some bytes (n % 4 == 0, n > 0; "=" only as the last one or two
 * characters; the unused bits of the last data character zero) as a new bytes object; NULL
 * without an exception set when it is not canonical; NULL with one on memory errors. */
static PyObject *b64_canonical(const unsigned char *in, Py_ssize_t n) {
    if (n <= 0 || n % 4) return NULL;
    int pad = (in[n - 1] == '=') + (in[n - 1] == '=' && in[n - 2] == '=');
    Py_ssize_t len = n / 4 * 3 - pad;
    PyObject *out = PyBytes_FromStringAndSize(NULL, len);
    if (out == NULL) return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    Py_ssize_t full = pad ? n - 4 : n;
    if (b64_groups(in, full, o) < 0) goto bad;
    if (pad) {
        const unsigned char *g = in + full;
        int a = B64[g[0]], b = B64[g[1]];
        if ((a | b) < 0) goto bad;
        o += full / 4 * 3;
        if (pad == 2) {
            if (b & 0x0f) goto bad;
            o[0] = (unsigned char)((a << 2) | (b >> 4));
        } else {
            int c = B64[g[2]];
            if (c < 0 || (c & 0x03)) goto bad;
            o[0] = (unsigned char)((a << 2) | (b >> 4));
            o[1] = (unsigned char)(((b & 0x0f) << 4) | (c >> 2));
        }
    }
    return out;
bad:
    Py_DECREF(out);
    return NULL;
}

static Py_ssize_t find_char(const char *s, Py_ssize_t from, Py_ssize_t n, char c) {
    if (from >= n) return -1;
    const char *p = memchr(s + from, c, (size_t)(n - from));
    return p ? p - s : -1;
}

static Py_ssize_t find_bytes(const char *s, Py_ssize_t n, const char *needle, Py_ssize_t m) {
    if (m == 0 || m > n) return -1;
    const char *p = memmem(s, (size_t)n, needle, (size_t)m);
    return p ? p - s : -1;
}

static int is_ascii(const char *s, Py_ssize_t n) {
    uint64_t any = 0;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        any |= w;
    }
    for (; i < n; i++) any |= (unsigned char)s[i];
    return !(any & 0x8080808080808080ull);
}

/* A 64-bit key of the tail's bytes (for a dict of tails seen; equality is checked apart). */
static unsigned long long tail_key(const unsigned char *p, Py_ssize_t n) {
    uint64_t h = 0x243F6A8885A308D3ull ^ (uint64_t)n;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    return h ^ (h >> 32);
}

/* split_proof(data: str | bytes, prefix: bytes, head: bytes, mid: bytes, needles: 3 bytes)
 *   -> (index, proof hashes, subject entry, tail start, tail end, phase, note start, tail key)
 *      | None
 * ``data`` is the file's text or its bytes; everything before the note is ASCII, so the offsets
 * are the same in both. */
static PyObject *split_proof(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !(PyUnicode_Check(args[0]) || PyBytes_Check(args[0])) ||
        !PyBytes_Check(args[1]) || !PyBytes_Check(args[2]) || !PyBytes_Check(args[3]) || !PyTuple_Check(args[4]) ||
        PyTuple_GET_SIZE(args[4]) != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "split_proof(str | bytes, bytes, bytes, bytes, (bytes, bytes, bytes))");
        return NULL;
    }
    PyObject *data = args[0];
    const char *s;
    Py_ssize_t n;
    if (PyBytes_Check(data)) {  /* the file's bytes: its text up to the note is ASCII (below) */
        s = PyBytes_AS_STRING(data);
        n = PyBytes_GET_SIZE(data);
    } else if (PyUnicode_IS_COMPACT_ASCII(data)) {
        s = (const char *)PyUnicode_DATA(data);
        n = PyUnicode_GET_LENGTH(data);
    } else {  /* a note with "—" (U+2014): read its UTF-8, the same offsets up to the note */
        s = PyUnicode_AsUTF8AndSize(data, &n);
        if (s == NULL) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
    }
    const char *prefix = PyBytes_AS_STRING(args[1]);
    Py_ssize_t pl = PyBytes_GET_SIZE(args[1]);
    const unsigned char *head_mark = (const unsigned char *)PyBytes_AS_STRING(args[2]);
    Py_ssize_t hl = PyBytes_GET_SIZE(args[2]);
    const unsigned char *mid = (const unsigned char *)PyBytes_AS_STRING(args[3]);
    Py_ssize_t ml = PyBytes_GET_SIZE(args[3]);
    if (ml < 3 || n < pl || memcmp(s, prefix, (size_t)pl) != 0) Py_RETURN_NONE;

    /* "extra <b64>\nindex <N>\n" then the hash lines, then a blank line and the note. */
    Py_ssize_t e1 = find_char(s, pl, n, '\n');
    if (e1 < 0 || n - e1 < 7 || memcmp(s + e1, "\nindex ", 7) != 0) Py_RETURN_NONE;
    Py_ssize_t e2 = find_char(s, e1 + 7, n, '\n');
    if (e2 < 0) Py_RETURN_NONE;
    Py_ssize_t nn = -1;
    for (Py_ssize_t at = e2; (at = find_char(s, at, n, '\n')) >= 0; at++) {
        if (at + 1 < n && s[at + 1] == '\n') {
            nn = at;
            break;
        }
    }
    if (nn < 0 || nn + 2 >= n) Py_RETURN_NONE;
    if (!is_ascii(s, nn + 2)) Py_RETURN_NONE; /* so offsets before the note are characters */

    /* The index: 0|[1-9][0-9]{0,19}, below 2**63. */
    Py_ssize_t il = e2 - (e1 + 7);
    const char *is = s + e1 + 7;
    if (il < 1 || il > 20 || (is[0] == '0' && il > 1)) Py_RETURN_NONE;
    unsigned __int128 index = 0;
    for (Py_ssize_t i = 0; i < il; i++) {
        if (is[i] < '0' || is[i] > '9') Py_RETURN_NONE;
        index = index * 10 + (unsigned)(is[i] - '0');
    }
    if (index >= ((unsigned __int128)1 << 63)) Py_RETURN_NONE;

    /* The hash lines: each 43 base64 characters, "=", newline; the canonical base64 of 32
     * bytes (the last data character's 2 unused bits zero). */
    const unsigned char *block = (const unsigned char *)s + e2 + 1;
    Py_ssize_t bl = nn - e2;
    if (bl % 45) Py_RETURN_NONE;
    Py_ssize_t nh = bl / 45;
    for (Py_ssize_t k = 0; k < nh; k++) {
        const unsigned char *line = block + 45 * k;
        if (line[43] != '=' || line[44] != '\n' || B64[line[42]] < 0 || (B64[line[42]] & 3))
            Py_RETURN_NONE;
        for (int i = 0; i < 42; i++)
            if (B64[line[i]] < 0) Py_RETURN_NONE;
    }

    /* The extra line: split on a base64 group boundary inside the constant mid run. */
    const char *extra = s + pl;
    Py_ssize_t el = e1 - pl;
    Py_ssize_t pos = -1;
    int phase = 0;
    for (; phase < 3; phase++) {
        PyObject *needle = PyTuple_GET_ITEM(args[4], phase);
        if (!PyBytes_Check(needle)) {
            PyErr_SetString(PyExc_TypeError, "split_proof: needles must be bytes");
            return NULL;
        }
        pos = find_bytes(extra, el, PyBytes_AS_STRING(needle), PyBytes_GET_SIZE(needle));
        if (pos >= 0) break;
    }
    if (pos <= 0 || pos % 4) Py_RETURN_NONE;

    /* The head: base64 of '{"entry":"' + the entry's base64 + the first 3 - phase bytes of mid. */
    Py_ssize_t hlen = pos / 4 * 3;
    Py_ssize_t cut = hlen - 3 + phase;
    if (cut < hl) Py_RETURN_NONE;
    unsigned char *head = PyMem_Malloc((size_t)hlen);
    if (head == NULL) return PyErr_NoMemory();
    PyObject *entry = NULL, *proof = NULL, *out = NULL;
    if (b64_groups((const unsigned char *)extra, pos, head) < 0 ||
        memcmp(head, head_mark, (size_t)hl) != 0 ||
        memcmp(head + cut, mid, (size_t)(3 - phase)) != 0)
        goto none;
    entry = b64_canonical(head + hl, cut - hl);
    if (entry == NULL) {
        if (PyErr_Occurred()) goto error;
        goto none;
    }
    proof = PyTuple_New(nh);
    if (proof == NULL) goto error;
    for (Py_ssize_t k = 0; k < nh; k++) {
        /* 44 characters with the pad read as "A" (zero): 33 bytes, the last one zero. */
        unsigned char line[44], raw[33];
        memcpy(line, block + 45 * k, 43);
        line[43] = 'A';
        b64_groups(line, 44, raw);
        PyObject *h = PyBytes_FromStringAndSize((const char *)raw, 32);
        if (h == NULL) goto error;
        PyTuple_SET_ITEM(proof, k, h);
    }
    out = Py_BuildValue("(KNNnninK)", (unsigned long long)index, proof, entry, pl + pos, e1,
                        phase, nn + 2, tail_key((const unsigned char *)extra + pos, el - pos));
    PyMem_Free(head);
    return out;
none:
    PyMem_Free(head);
    Py_XDECREF(entry);
    Py_XDECREF(proof);
    Py_RETURN_NONE;
error:
    PyMem_Free(head);
    Py_XDECREF(entry);
    Py_XDECREF(proof);
    return NULL;
}

/* SHA-256(0x01 || a || b), a and b 32 bytes each (out may be a or b). */
static void node_hash(const unsigned char *a, const unsigned char *b, unsigned char *out) {
    static const unsigned char one = 1;
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &one, 1);
    SHA256_Update(&ctx, a, 32);
    SHA256_Update(&ctx, b, 32);
    SHA256_Final(out, &ctx);
}

static int as_u64(PyObject *o, unsigned long long *v) {
    if (!PyLong_CheckExact(o)) return 0;
    *v = PyLong_AsUnsignedLongLong(o);
    if (*v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* Whether the remembered proof equals ``proof`` (32-byte bytes, checked) from position k on.
 * Compares bytes only, so no Python code runs (anything else is "not the same": the walk then
 * goes on and computes the root itself). */
static int same_from(PyObject *a, PyObject *b, Py_ssize_t k) {
    if (a == b) return 1;
    if (!PyTuple_CheckExact(a) || PyTuple_GET_SIZE(a) != PyTuple_GET_SIZE(b)) return 0;
    for (Py_ssize_t i = k; i < PyTuple_GET_SIZE(b); i++) {
        PyObject *x = PyTuple_GET_ITEM(a, i), *y = PyTuple_GET_ITEM(b, i);
        if (x == y) continue;
        if (!PyBytes_CheckExact(x) || PyBytes_GET_SIZE(x) != 32 ||
            memcmp(PyBytes_AS_STRING(x), PyBytes_AS_STRING(y), 32) != 0)
            return 0;
    }
    return 1;
}

#define MAX_PROOF 64

/* walk_inclusion(nodes: dict, leaf_hash: bytes, index: int, size: int, proof: tuple,
 *                root: bytes, max_nodes: int) -> bool | None */
static PyObject *walk_inclusion(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7 || !PyDict_Check(args[0]) || !PyTuple_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "walk_inclusion(dict, bytes, int, int, tuple, bytes, int)");
        return NULL;
    }
    PyObject *nodes = args[0], *leaf = args[1], *proof = args[4], *root = args[5];
    unsigned long long index, size, max_nodes;
    if (!as_u64(args[2], &index) || !as_u64(args[3], &size) || !as_u64(args[6], &max_nodes) ||
        !PyBytes_CheckExact(leaf) || !PyBytes_CheckExact(root))
        Py_RETURN_NONE; /* not 64-bit numbers or not bytes: the caller's Python walk decides */
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(proof); k++)
        if (!PyBytes_CheckExact(PyTuple_GET_ITEM(proof, k))) Py_RETURN_NONE;
    if (PyBytes_GET_SIZE(leaf) != 32 || PyBytes_GET_SIZE(root) != 32 || index >= size)
        Py_RETURN_FALSE;
    Py_ssize_t plen = PyTuple_GET_SIZE(proof);
    unsigned long long last = size - 1;
    int inner = 64 - (index ^ last ? __builtin_clzll(index ^ last) : 64);
    if (plen > MAX_PROOF ||
        plen != inner + __builtin_popcountll(inner >= 64 ? 0 : index >> inner))
        Py_RETURN_FALSE;
    for (Py_ssize_t k = 0; k < plen; k++)
        if (PyBytes_GET_SIZE(PyTuple_GET_ITEM(proof, k)) != 32) Py_RETURN_FALSE;
    PyObject *path[MAX_PROOF];
    unsigned long long path_fn[MAX_PROOF], path_sn[MAX_PROOF];
    Py_ssize_t depth = 0;
    unsigned char r[32];
    memcpy(r, PyBytes_AS_STRING(leaf), 32);
    unsigned long long fn = index, sn = last;
    int ok = 0, reached = 0;
    for (Py_ssize_t k = 0; k < plen; k++) {
        PyObject *node = PyBytes_FromStringAndSize((const char *)r, 32);
        if (node == NULL) goto error;
        PyObject *hit = PyDict_GetItemWithError(nodes, node);
        if (hit == NULL && PyErr_Occurred()) {
            Py_DECREF(node);
            goto error;
        }
        Py_XINCREF(hit); /* ours while it is read (nothing below runs Python code, but still) */
        int same = 0;
        if (hit != NULL && PyTuple_CheckExact(hit) && PyTuple_GET_SIZE(hit) == 4) {
            unsigned long long hk, hf, hs;
            same = as_u64(PyTuple_GET_ITEM(hit, 0), &hk) && hk == (unsigned long long)k &&
                   as_u64(PyTuple_GET_ITEM(hit, 1), &hf) && hf == fn &&
                   as_u64(PyTuple_GET_ITEM(hit, 2), &hs) && hs == sn &&
                   same_from(PyTuple_GET_ITEM(hit, 3), proof, k);
        }
        Py_XDECREF(hit);
        if (same) {
            Py_DECREF(node);
            reached = 1;
            break;
        }
        path[depth] = node;
        path_fn[depth] = fn;
        path_sn[depth] = sn;
        depth++;
        if (sn == 0) goto done;
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(PyTuple_GET_ITEM(proof, k));
        if ((fn & 1) || fn == sn) {
            node_hash(p, r, r);
            while (fn && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node_hash(r, p, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (!reached && (sn != 0 || memcmp(r, PyBytes_AS_STRING(root), 32) != 0)) goto done;
    ok = 1;
    {
        Py_ssize_t have = PyDict_GET_SIZE(nodes);
        Py_ssize_t room = (long long)max_nodes > have ? (Py_ssize_t)max_nodes - have : 0;
        for (Py_ssize_t i = 0; i < depth && i < room; i++) {
            PyObject *state = Py_BuildValue("(nKKO)", i, path_fn[i], path_sn[i], proof);
            if (state == NULL || PyDict_SetItem(nodes, path[i], state) < 0) {
                Py_XDECREF(state);
                goto error;
            }
            Py_DECREF(state);
        }
    }
done:
    for (Py_ssize_t i = 0; i < depth; i++) Py_DECREF(path[i]);
    if (ok) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
error:
    for (Py_ssize_t i = 0; i < depth; i++) Py_DECREF(path[i]);
    return NULL;
}

/* may_hold_float(data: bytes) -> bool: whether canonical JSON text may hold a float: False
 * only when no number in it has a fraction or an exponent (outside strings, a "." or an "e"/"E"
 * after a digit is found in numbers only). For text a JSON parser accepted. */
static PyObject *may_hold_float(PyObject *self, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "may_hold_float(bytes)");
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '"') {  /* skip the string, its escapes included */
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\') i++;
        } else if (c == '.' || ((c == 'e' || c == 'E') && i > 0 && p[i - 1] >= '0' &&
                                p[i - 1] <= '9')) {
            Py_RETURN_TRUE;
        }
    }
    Py_RETURN_FALSE;
}

/* frozen_new(cls, names, *values): a frozen dataclass instance with each field set as
 * object.__setattr__ sets it (what the dataclass's __init__ does, without a Python call per
 * field). For classes with no __post_init__ whose fields all are given, in order. */
static PyObject *frozen_new(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || !PyType_Check(args[0]) || !PyTuple_Check(args[1]) ||
        PyTuple_GET_SIZE(args[1]) != nargs - 2) {
        PyErr_SetString(PyExc_TypeError, "frozen_new(cls, names, *values): one value per name");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    if (!PyType_HasFeature(cls, Py_TPFLAGS_HEAPTYPE) || cls->tp_new != PyBaseObject_Type.tp_new) {
        /* object.__new__ is safe only for classes that kept it (not set, type, memoryview...) */
        PyErr_SetString(PyExc_TypeError, "frozen_new: a Python class made with object.__new__");
        return NULL;
    }
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL) return NULL;
    PyObject *obj = PyBaseObject_Type.tp_new(cls, empty, NULL);
    Py_DECREF(empty);
    if (obj == NULL) return NULL;
    for (Py_ssize_t i = 0; i < nargs - 2; i++) {
        if (PyObject_GenericSetAttr(obj, PyTuple_GET_ITEM(args[1], i), args[i + 2]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

/* leaf_hash(entry: bytes) -> bytes: SHA-256(0x00 || entry), RFC 9162's leaf hash. */
static PyObject *leaf_hash(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    static const unsigned char zero = 0;
    unsigned char out[32];
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &zero, 1);
    SHA256_Update(&ctx, view.buf, (size_t)view.len);
    SHA256_Final(out, &ctx);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyMethodDef methods[] = {
    {"frozen_new", (PyCFunction)(void (*)(void))frozen_new, METH_FASTCALL,
     "A frozen dataclass instance with its fields set (no __post_init__)."},
    {"leaf_hash", leaf_hash, METH_O, "SHA-256(0x00 || entry): RFC 9162's leaf hash."},
    {"may_hold_float", may_hold_float, METH_O,
     "Whether canonical JSON text may hold a float (False: none of its numbers has one)."},
    {"split_proof", (PyCFunction)(void (*)(void))split_proof, METH_FASTCALL,
     "The subject's parts of a proof file as TlogProof.format writes it, else None."},
    {"walk_inclusion", (PyCFunction)(void (*)(void))walk_inclusion, METH_FASTCALL,
     "NodeMemo.verify's walk: True when the proof leads to the root."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "reelrights.core._native",
    "The byte work of verifying many proof files, in C (pure-Python fallbacks beside it).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    b64_init();
    return PyModule_Create(&module);
}
