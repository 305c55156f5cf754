/* shared/answer.h -- the built-in extractive generator (the embedded default: no network, no
 * model). answer_compose() writes an answer in Indonesian from the retrieved articles, quoting
 * the first sentence(s) of the most relevant ones and citing every reference by its [n];
 * answer_next_piece() cuts it into the pieces a stream sends. Pure and deterministic: the same
 * input gives the same bytes. */
#ifndef LX_SHARED_ANSWER_H
#define LX_SHARED_ANSWER_H

#include <stddef.h>

/* The answer's size when the caller gives 0. */
#define LX_ANSWER_DEFAULT_MAX_BYTES 4096
/* A max_bytes of at least this is always respected (see answer_compose()). */
#define LX_ANSWER_MIN_BYTES 640
/* References quoted at most; the others are cited in a closing list. */
#define LX_ANSWER_QUOTED_MAX 3
/* One quotation at most, and the least worth giving (below it the article is cited only). */
#define LX_ANSWER_QUOTE_MAX_BYTES 600
#define LX_ANSWER_QUOTE_MIN_BYTES 60

/* One retrieved unit, as the retrieval event lists it. Every string is borrowed, UTF-8 (bytes
 * that are not are replaced), and may be NULL. */
struct answer_ref {
    unsigned n;           /* its number in the references: cited as "[n]" */
    const char *doc_id;   /* "UU-31-1999", "KUHP" */
    const char *doc_type; /* "UU", "PP", "PERPU", "PERPRES", "KUHP" */
    const char *number;   /* "31"; NULL for KUHP */
    int year;             /* 1999; 0 if unknown */
    const char *title;    /* "Undang-Undang Nomor 31 Tahun 1999 tentang ..." */
    const char *pasal;    /* "2", "12B", "303 bis", "I" */
    const char *ayat;     /* "1", or NULL: the whole article */
    const char *kind;     /* "article" or "definition" (one definition of a Ketentuan Umum) */
    const char *text;     /* the article (or ayat, or definition) text; lines end in "\n" */
};

/* The answer to question from refs[0..nrefs), most relevant first, as a malloc'ed UTF-8
 * string (NULL on ENOMEM), paragraphs separated by "\n\n":
 *   - an opening saying what the answer is based on;
 *   - for each of the first LX_ANSWER_QUOTED_MAX refs that have text: "Menurut Pasal 2 ayat (1)
 *     Undang-Undang Nomor 31 Tahun 1999 tentang ... [1], “...”" quoting the article's first
 *     sentence(s) (the definition, for a definition), line breaks and list markers ("a.",
 *     "1.") made into running text, cut at a sentence, clause or word boundary (then "…");
 *     an article of ayat is quoted from the ref's ayat, else from its first (named in the
 *     citation) unless that one is short, when the quotation runs on into the next;
 *   - the other refs, each cited by its [n] in one closing list;
 *   - "Jawaban ini disusun otomatis dari teks peraturan dan bukan nasihat hukum."
 * With no refs: an apology that no relevant article was found, quoting the question.
 * A ref with the same doc_id, pasal, ayat and text as one quoted is listed instead.
 * The answer is at most max_bytes long (0: LX_ANSWER_DEFAULT_MAX_BYTES): quotations are cut
 * first (to about 240 bytes each), then refs are left out of the list, then quotations are cut
 * further; when even LX_ANSWER_QUOTE_MIN_BYTES each do not fit, the list goes, then quotations
 * from the last (their refs are cited as "Lihat Pasal ... [n]."), then those paragraphs but the
 * first. A max_bytes below LX_ANSWER_MIN_BYTES may be exceeded by what cannot be dropped. */
char *answer_compose(const char *question, const struct answer_ref *refs, size_t nrefs,
                     size_t max_bytes);

/* The length of the next streaming piece of answer[0..len) starting at at (0 when at >= len):
 * one or more words, as many as fit in max_piece bytes, ending after a space (or after
 * punctuation inside a long run such as "dan/atau" or "1.000.000,00"). A piece never ends
 * inside a UTF-8 sequence or a citation marker such as "[12]"; it is longer than max_piece
 * only when its first word is. Pieces from at = 0 on concatenate to the whole answer. */
size_t answer_next_piece(const char *answer, size_t len, size_t at, size_t max_piece);

#endif
