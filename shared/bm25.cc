/* shared/bm25.cc -- the Xapian shim behind shared/bm25.h: BM25 over legal units (articles and
 * definitions), one writer and many readers. Every C++ exception stops at the extern "C"
 * boundary and becomes a malloc'ed *err.
 *
 * Index layout (format 1; the reader refuses another format, rebuild with lexrag-ingest):
 *   text terms   title, bab and text through one TermGenerator: Indonesian Snowball stemmer,
 *                stemmed terms only (STEM_ALL: no Z prefix, no unstemmed copies), stopwords
 *                from bm25_stopwords.c dropped (STOP_ALL), no positions (BM25 needs none).
 *                Each field adds its own wdf per occurrence (BM25_*_WDF below).
 *   Q<unit_id>   unique id term (boolean): put replaces, delete finds.
 *   XT<type>     doc_type, lower-case (boolean): filter only.
 *   XN<number>   number, lower-case (boolean).
 *   XD<doc_id>   doc_id, lower-case ("XDuu-1-2023"), wdf 1: a filter, and a term a query
 *                naming the law ("UU 1/2023") matches with its BM25 weight.
 *   XP<pasal>    pasal, lower-case without spaces ("XP27a", "XP303bis"), wdf 1: as XD, for
 *                "pasal 27A" in a query.
 *   XL<doc_id>:<pasal>  both ("XLuu-31-1999:2"), wdf 1: a query naming law and article.
 *   value 0      year, Xapian::sortable_serialise (range filters).
 *   value 1      unit_id, 8 bytes big-endian.
 * Prefixes are upper-case and text terms lower-case, so the two never collide. XD, XP
 * and XL count in the document length (+3 per unit); the unit tests' hand-computed scores say
 * so.
 *
 * Queries never go through Xapian::QueryParser: the query text is run through the same
 * TermGenerator as the documents (so "AND", quotes, "*", brackets or invalid UTF-8 are just
 * text, never a syntax error) and the terms are OR-ed, a repeated word as one term with its
 * count as wqf (BM25 k3 = 1). Law numbers ("UU 1/2023", "PP Nomor 35 Tahun 2021", "KUHP") and
 * article numbers ("pasal 27A") found in the raw text add their XD / XP terms to the OR, and an
 * XL term for each law and article named together. */
#include "bm25.h"

#include <xapian.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <vector>

namespace
{

const char BM25_FORMAT_KEY[] = "lexrag.bm25.format";
const char BM25_FORMAT[] = "1";
const Xapian::valueno BM25_SLOT_YEAR = 0;
const Xapian::valueno BM25_SLOT_UNIT = 1;

/* wdf added per word occurrence, by field. Measured with bench/bm25_eval.c (each can be
 * overridden with -D to measure again): the chapter heading counts double, and for a definition
 * unit the ingest passes the defined term as its bab (heading) and the article's intro plus
 * the definition as its text; that is where most of the gain on definition questions comes
 * from (glossary Recall@10 0.53 -> 0.93). The title (the same for every article of a law)
 * helps find the law; weighting it more or dropping it changed little. */
#ifndef BM25_TITLE_WDF
#define BM25_TITLE_WDF 1
#endif
#ifndef BM25_BAB_WDF
#define BM25_BAB_WDF 2
#endif
#ifndef BM25_TEXT_WDF
#define BM25_TEXT_WDF 1
#endif
/* wdf of the XD, XP and XL terms in a unit (0 makes them boolean: filters only, no boost). */
#ifndef BM25_STRUCT_WDF
#define BM25_STRUCT_WDF 1
#endif

/* A longer query is cut here (at a UTF-8 boundary): questions are short, and an OR over
 * thousands of terms costs time for nothing. */
const size_t BM25_QUERY_MAX_BYTES = 4096;
/* Structured terms taken from one query, at most. */
const size_t BM25_QUERY_MAX_STRUCT = 8;

/* Xapian's stopper over the project's own list. */
class Bm25Stopper : public Xapian::Stopper
{
  public:
    bool operator()(const std::string &word) const override
    {
        return bm25_is_stopword(word.c_str()) != 0;
    }
    std::string get_description() const override
    {
        return "lexrag bm25_stopwords";
    }
};

void setup_termgen(Xapian::TermGenerator &tg, const Bm25Stopper &stop)
{
    tg.set_stemmer(Xapian::Stem("indonesian"));
    tg.set_stopper(&stop);
    tg.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
}

/* *err = "bm25: <what>: <kind>: <msg>" (kind may be NULL), malloc'ed; never throws (called
 * from catch blocks). If even that allocation fails, *err stays NULL: -1 still says failure. */
void set_err(char **err, const char *what, const char *kind, const char *msg) noexcept
{
    if (err == NULL)
        return;
    free(*err); /* NULL on entry by convention; a leftover message is replaced, not leaked */
    size_t n = strlen(what) + (kind ? strlen(kind) : 0) + strlen(msg) + 16;
    *err = (char *)malloc(n);
    if (*err != NULL)
        snprintf(*err, n, "bm25: %s: %s%s%s", what, kind ? kind : "", kind ? ": " : "", msg);
}

/* Runs f(); any exception becomes *err and false. No allocation on the error path but the
 * message's own (Xapian::Error's type and message are read in place). */
template <class F> bool guarded(char **err, const char *what, F f) noexcept
{
    try {
        f();
        return true;
    } catch (const Xapian::Error &e) {
        set_err(err, what, e.get_type(), e.get_msg().c_str());
    } catch (const std::bad_alloc &) {
        set_err(err, what, NULL, "out of memory");
    } catch (const std::exception &e) {
        set_err(err, what, NULL, e.what());
    } catch (...) {
        set_err(err, what, NULL, "unknown exception");
    }
    return false;
}

/* ASCII lower-case, whitespace dropped: "UU-31-1999" -> "uu-31-1999", "303 bis" -> "303bis". */
std::string norm_key(const char *s)
{
    std::string out;
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c))
            continue;
        out += (char)tolower(c);
    }
    return out;
}

std::string unit_term(int64_t unit_id)
{
    return "Q" + std::to_string(unit_id);
}

std::string encode_unit(int64_t unit_id)
{
    uint64_t v = (uint64_t)unit_id;
    char b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (char)(v & 0xff);
    return std::string(b, sizeof b);
}

int64_t decode_unit(const std::string &s)
{
    uint64_t v = 0;
    if (s.size() != 8)
        return -1;
    for (unsigned char c : s)
        v = v << 8 | c;
    return (int64_t)v;
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Structured terms in a query: law numbers and article numbers                               */

struct qtok {
    std::string w; /* ASCII letters and digits, lower-case */
    char after;    /* the byte right after the token ('\0' at the end) */
};

std::vector<qtok> ascii_tokens(const char *q, size_t len)
{
    std::vector<qtok> out;
    size_t i = 0;
    while (i < len) {
        if (!isalnum((unsigned char)q[i])) {
            i++;
            continue;
        }
        qtok t;
        while (i < len && isalnum((unsigned char)q[i]))
            t.w += (char)tolower((unsigned char)q[i++]);
        t.after = i < len ? q[i] : '\0';
        out.push_back(t);
    }
    return out;
}

bool all_digits(const std::string &s, size_t min, size_t max)
{
    if (s.size() < min || s.size() > max)
        return false;
    for (char c : s)
        if (!isdigit((unsigned char)c))
            return false;
    return true;
}

bool is_year(const std::string &s)
{
    return all_digits(s, 4, 4) && s >= "1800" && s <= "2199";
}

/* "27", "27a": digits, then at most one letter. */
bool is_pasal_number(const std::string &s)
{
    size_t d = 0;
    while (d < s.size() && isdigit((unsigned char)s[d]))
        d++;
    if (d == 0 || d > 4)
        return false;
    return s.size() == d || (s.size() == d + 1 && isalpha((unsigned char)s[d]));
}

bool is_pasal_suffix(const std::string &s)
{
    static const char *const sfx[] = {"bis", "ter", "quater", "quinquies", "sexies", NULL};
    for (int i = 0; sfx[i] != NULL; i++)
        if (s == sfx[i])
            return true;
    return false;
}

/* The document type named just before token i ("UU", "Undang-Undang", "PP", "Perpu"), skipping
 * "No"/"Nomor"; "" if none. */
std::string type_before(const std::vector<qtok> &t, size_t i)
{
    while (i > 0 && (t[i - 1].w == "no" || t[i - 1].w == "nomor"))
        i--;
    if (i == 0)
        return "";
    const std::string &w = t[i - 1].w;
    if (w == "uu" || w == "perpu" || w == "perppu")
        return "uu";
    if (w == "undang" && i >= 2 && t[i - 2].w == "undang")
        return "uu";
    if (w == "pp")
        return "pp";
    if (w == "pemerintah" && i >= 2 && t[i - 2].w == "peraturan")
        return "pp";
    return "";
}

void add_law(std::vector<std::string> &out, const std::string &type, const std::string &num,
             const std::string &year)
{
    if (!type.empty()) {
        out.push_back(type + "-" + num + "-" + year);
    } else { /* "31/1999" alone: either kind */
        out.push_back("uu-" + num + "-" + year);
        out.push_back("pp-" + num + "-" + year);
    }
}

/* XD, XP and XL terms for the law numbers and article numbers a query names. */
std::vector<std::string> struct_terms(const char *q, size_t len)
{
    std::vector<qtok> t = ascii_tokens(q, len);
    std::vector<std::string> laws, pasals, out;
    for (size_t i = 0; i < t.size() && laws.size() + pasals.size() < BM25_QUERY_MAX_STRUCT; i++) {
        if (t[i].w == "pasal" && i + 1 < t.size() && is_pasal_number(t[i + 1].w)) {
            std::string p = t[i + 1].w;
            if (i + 2 < t.size() && is_pasal_suffix(t[i + 2].w))
                p += t[i + 2].w;
            pasals.push_back(p);
        } else if (all_digits(t[i].w, 1, 4) && t[i].after == '/' && i + 1 < t.size() &&
                   is_year(t[i + 1].w)) { /* "1/2023" */
            add_law(laws, type_before(t, i), t[i].w, t[i + 1].w);
        } else if (all_digits(t[i].w, 1, 4) && i + 2 < t.size() && t[i + 1].w == "tahun" &&
                   is_year(t[i + 2].w) && i > 0 &&
                   (t[i - 1].w == "no" || t[i - 1].w == "nomor")) { /* "Nomor 35 Tahun 2021" */
            add_law(laws, type_before(t, i), t[i].w, t[i + 2].w);
        } else if (t[i].w == "kuhp") { /* the corpus's doc_id of the old code */
            laws.push_back("kuhp");
        }
    }
    for (const std::string &d : laws)
        out.push_back("XD" + d);
    for (const std::string &p : pasals)
        out.push_back("XP" + p);
    for (const std::string &d : laws) /* "pasal 2 UU 31/1999": the one article, by name */
        for (const std::string &p : pasals)
            out.push_back("XL" + d + ":" + p);
    return out;
}

} // namespace

/* ------------------------------------------------------------------------------------------ */
/* Writer                                                                                     */

struct bm25_writer {
    Bm25Stopper stop; /* outlives tg, which points at it */
    Xapian::WritableDatabase db;
    Xapian::TermGenerator tg;

    explicit bm25_writer(const char *dir) : db(dir, Xapian::DB_CREATE_OR_OPEN)
    {
        std::string fmt = db.get_metadata(BM25_FORMAT_KEY);
        if (fmt.empty() && db.get_doccount() == 0)
            db.set_metadata(BM25_FORMAT_KEY, BM25_FORMAT);
        else if (fmt != BM25_FORMAT)
            throw Xapian::InvalidArgumentError("index format '" + fmt + "', this build writes '" +
                                               BM25_FORMAT + "': rebuild the index");
        setup_termgen(tg, stop);
    }
};

extern "C" bm25_writer *bm25_writer_open(const char *dir, char **err)
{
    bm25_writer *w = NULL;
    if (!guarded(err, "writer_open", [&] { w = new bm25_writer(dir); }))
        return NULL;
    return w;
}

extern "C" int bm25_writer_put(bm25_writer *w, const struct bm25_unit *u, char **err)
{
    bool ok = guarded(err, "writer_put", [&] {
        Xapian::Document doc;
        w->tg.set_document(doc);
        if (u->title != NULL && BM25_TITLE_WDF > 0)
            w->tg.index_text_without_positions(u->title, BM25_TITLE_WDF);
        if (u->bab != NULL && BM25_BAB_WDF > 0)
            w->tg.index_text_without_positions(u->bab, BM25_BAB_WDF);
        if (u->text != NULL)
            w->tg.index_text_without_positions(u->text, BM25_TEXT_WDF);

        std::string id = unit_term(u->unit_id);
        doc.add_boolean_term(id);
        if (u->doc_type != NULL && u->doc_type[0] != '\0')
            doc.add_boolean_term("XT" + norm_key(u->doc_type));
        if (u->number != NULL && u->number[0] != '\0')
            doc.add_boolean_term("XN" + norm_key(u->number));
        if (u->doc_id != NULL && u->doc_id[0] != '\0')
            doc.add_term("XD" + norm_key(u->doc_id), BM25_STRUCT_WDF);
        if (u->pasal != NULL && u->pasal[0] != '\0')
            doc.add_term("XP" + norm_key(u->pasal), BM25_STRUCT_WDF);
        if (u->doc_id != NULL && u->doc_id[0] != '\0' && u->pasal != NULL && u->pasal[0] != '\0')
            doc.add_term("XL" + norm_key(u->doc_id) + ":" + norm_key(u->pasal), BM25_STRUCT_WDF);
        doc.add_value(BM25_SLOT_YEAR, Xapian::sortable_serialise(u->year));
        doc.add_value(BM25_SLOT_UNIT, encode_unit(u->unit_id));
        w->db.replace_document(id, doc);
    });
    return ok ? 0 : -1;
}

extern "C" int bm25_writer_delete(bm25_writer *w, int64_t unit_id, char **err)
{
    bool ok = guarded(err, "writer_delete", [&] { w->db.delete_document(unit_term(unit_id)); });
    return ok ? 0 : -1;
}

extern "C" int bm25_writer_commit(bm25_writer *w, char **err)
{
    return guarded(err, "writer_commit", [&] { w->db.commit(); }) ? 0 : -1;
}

extern "C" void bm25_writer_close(bm25_writer *w)
{
    if (w == NULL)
        return;
    char *err = NULL;
    guarded(&err, "writer_close", [&] {
        w->db.commit();
        w->db.close();
    });
    free(err); /* nowhere to report it: call bm25_writer_commit first to see errors */
    delete w;
}

/* ------------------------------------------------------------------------------------------ */
/* Reader                                                                                     */

struct bm25_index {
    Bm25Stopper stop;
    Xapian::Database db;
    Xapian::TermGenerator tg; /* turns query text into the index's terms */

    explicit bm25_index(const char *dir) : db(dir)
    {
        check_format();
        setup_termgen(tg, stop);
    }
    void check_format()
    {
        std::string fmt = db.get_metadata(BM25_FORMAT_KEY);
        if (fmt != BM25_FORMAT && db.get_doccount() > 0)
            throw Xapian::InvalidArgumentError("index format '" + fmt + "', this build reads '" +
                                               BM25_FORMAT + "': rebuild the index");
    }
};

extern "C" bm25_index *bm25_open(const char *dir, char **err)
{
    bm25_index *ix = NULL;
    if (!guarded(err, "open", [&] { ix = new bm25_index(dir); }))
        return NULL;
    return ix;
}

extern "C" void bm25_close(bm25_index *ix)
{
    delete ix;
}

extern "C" int bm25_reopen(bm25_index *ix, char **err)
{
    int changed = 0;
    bool ok = guarded(err, "reopen", [&] {
        Xapian::rev before = ix->db.get_revision();
        ix->db.reopen();
        changed = ix->db.get_revision() != before;
        if (changed)
            ix->check_format();
    });
    return ok ? changed : -1;
}

extern "C" uint64_t bm25_doc_count(const bm25_index *ix)
{
    uint64_t n = 0;
    char *err = NULL;
    guarded(&err, "doc_count", [&] { n = ix->db.get_doccount(); });
    free(err);
    return n;
}

namespace
{

/* The OR query for text q[0..len), or an empty Query when nothing searchable is left. */
Xapian::Query build_query(bm25_index *ix, const char *q, size_t len)
{
    std::vector<Xapian::Query> sub;
    Xapian::Document qdoc;
    ix->tg.set_document(qdoc);
    ix->tg.index_text_without_positions(std::string(q, len));
    for (Xapian::TermIterator t = qdoc.termlist_begin(); t != qdoc.termlist_end(); ++t)
        sub.emplace_back(*t, t.get_wdf()); /* a word said twice: wqf 2 */
    if (BM25_STRUCT_WDF > 0) {
        std::map<std::string, Xapian::termcount> st;
        for (const std::string &s : struct_terms(q, len))
            st[s]++;
        for (const auto &kv : st)
            sub.emplace_back(kv.first, kv.second);
    }
    if (sub.empty())
        return Xapian::Query();
    return Xapian::Query(Xapian::Query::OP_OR, sub.begin(), sub.end());
}

Xapian::Query build_filter(const struct bm25_filter *f)
{
    std::vector<Xapian::Query> sub;
    if (f->doc_type != NULL && f->doc_type[0] != '\0')
        sub.emplace_back("XT" + norm_key(f->doc_type));
    if (f->doc_id != NULL && f->doc_id[0] != '\0')
        sub.emplace_back("XD" + norm_key(f->doc_id));
    if (f->year_min != 0 && f->year_max != 0)
        sub.emplace_back(Xapian::Query::OP_VALUE_RANGE, BM25_SLOT_YEAR,
                         Xapian::sortable_serialise(f->year_min),
                         Xapian::sortable_serialise(f->year_max));
    else if (f->year_min != 0)
        sub.emplace_back(Xapian::Query::OP_VALUE_GE, BM25_SLOT_YEAR,
                         Xapian::sortable_serialise(f->year_min));
    else if (f->year_max != 0)
        sub.emplace_back(Xapian::Query::OP_VALUE_LE, BM25_SLOT_YEAR,
                         Xapian::sortable_serialise(f->year_max));
    if (sub.empty())
        return Xapian::Query();
    return Xapian::Query(Xapian::Query::OP_AND, sub.begin(), sub.end());
}

int run_search(bm25_index *ix, const Xapian::Query &query, unsigned k, double k1, double b,
               struct bm25_hit *hits)
{
    Xapian::Enquire enq(ix->db);
    enq.set_query(query);
    enq.set_weighting_scheme(Xapian::BM25Weight(k1, 0.0, 1.0, b, 0.5));
    Xapian::MSet m = enq.get_mset(0, k);
    int n = 0;
    for (Xapian::MSetIterator it = m.begin(); it != m.end() && (unsigned)n < k; ++it) {
        hits[n].unit_id = decode_unit(it.get_document().get_value(BM25_SLOT_UNIT));
        hits[n].score = it.get_weight();
        n++;
    }
    return n;
}

} // namespace

extern "C" int bm25_search(bm25_index *ix, const char *query, const struct bm25_filter *filter,
                           unsigned k, double k1, double b, struct bm25_hit *hits, char **err)
{
    if (!(k1 >= 0.0) || !(b >= 0.0 && b <= 1.0) || std::isinf(k1)) {
        set_err(err, "search", NULL, "k1 must be >= 0 and b in [0, 1]");
        return -1;
    }
    if (query == NULL || k == 0)
        return 0;
    int n = 0;
    bool ok = guarded(err, "search", [&] {
        size_t len = utf8_cut(query, strlen(query), BM25_QUERY_MAX_BYTES);
        Xapian::Query q = build_query(ix, query, len);
        if (q.empty())
            return; /* stopwords only, or no word at all: no hits */
        if (filter != NULL) {
            Xapian::Query f = build_filter(filter);
            if (!f.empty())
                q = Xapian::Query(Xapian::Query::OP_FILTER, q, f);
        }
        try {
            n = run_search(ix, q, k, k1, b, hits);
        } catch (const Xapian::DatabaseModifiedError &) {
            ix->db.reopen(); /* the writer moved on past our revision: once more, fresh */
            n = run_search(ix, q, k, k1, b, hits);
        }
    });
    return ok ? n : -1;
}
