/* shared/cite.h -- the citation fast path's parser: recognises a query that IS a legal
 * citation, in the forms people type ("Pasal 2 ayat (1) UU No. 31 Tahun 1999",
 * "UU 31/1999 pasal 2", "UU Nomor 31 Tahun 1999 Pasal 2 ayat 1", "pasal 362 KUHP",
 * "PP 71/2019 pasal 5", "Pasal 12B UU 31/1999 jo. UU 20/2001"), with code aliases such as
 * KUHP configurable. Pure: no I/O. A question that merely mentions an article ("apa sanksi
 * korupsi menurut pasal 2?") is not a citation. */
#ifndef LX_SHARED_CITE_H
#define LX_SHARED_CITE_H

#include <stddef.h>

#define LX_CITE_FIELD_BYTES 32

struct cite {
    char doc_type[LX_CITE_FIELD_BYTES];      /* "UU", "PP", "PERPU", "PERPRES", or the alias */
    char number[LX_CITE_FIELD_BYTES];        /* "31"; "" for a code alias */
    int year;                                /* 1999; 0 for a code alias */
    char pasal[LX_CITE_FIELD_BYTES];         /* "2", "12B", "303 bis" (as cited, normalised) */
    char ayat[LX_CITE_FIELD_BYTES];          /* "1"; "" when none */
    char doc_id[LX_CITE_FIELD_BYTES * 2];    /* "UU-31-1999", or the alias's doc_id ("KUHP") */
    char jo_doc_id[LX_CITE_FIELD_BYTES * 2]; /* "UU-20-2001" for "jo. UU 20/2001", else "" */
};

struct cite_alias {
    const char *name;   /* as typed, matched case-insensitively: "KUHP" */
    const char *doc_id; /* the corpus doc_id it stands for: "KUHP" */
};

/* The built-in aliases (KUHP, KUHPerdata, KUHAP, ...), NULL-name terminated. */
extern const struct cite_alias cite_default_aliases[];

/* 1 and *out filled if q[0..len) is a citation; 0 if not. aliases: NULL-name terminated list
 * (NULL for the defaults). */
int cite_parse(const char *q, size_t len, const struct cite_alias *aliases, struct cite *out);

/* The built-in aliases plus those of spec ("NAME=DOC_ID, NAME=DOC_ID", retrieval.cite_aliases;
 * a name given twice: the later wins), as one malloc'ed NULL-name terminated list to free with
 * cite_aliases_free(). NULL with a message in err (cap bytes) when spec is malformed. */
struct cite_alias *cite_aliases_new(const char *spec, char *err, size_t cap);
void cite_aliases_free(struct cite_alias *list);

#endif
