/* shared/bm25_stopwords.c -- the project's own Indonesian stopword list for BM25 (shared/bm25.cc
 * builds its Xapian stopper from it): question words and their -kah forms (apa, apakah,
 * bagaimana, siapa, kapan, ...), request verbs of questions (jelaskan, sebutkan), pronouns and
 * function words (yang, di, ke, dari, dan, atau, untuk, dengan, pada, ...).
 *
 * What is NOT here, on purpose: words that carry legal meaning even though they are frequent
 * (tidak, bukan, wajib, dapat, harus, boleh, setiap, hak, pidana, pasal, ayat, sanksi, ...),
 * time relations that set deadlines (sebelum, setelah, selama, sejak, hingga), and "dimaksud",
 * "sebagaimana". Measured on the dev questions (bench/bm25_eval.c): adding tidak, dimaksud,
 * sebagaimana, setiap, dapat or harus changed nothing or cost a little; dropping the time words
 * gained a little; no list at all ranks about as well overall but is clearly worse on definition
 * questions ("Apa yang dimaksud dengan X?") and searches take 1.5x the CPU ("yang", "apa").
 * Words are matched one token at a time, lower-cased and before stemming, so the -kah/-lah
 * variants of question words are listed themselves; two-word forms ("di mana") need no entry,
 * both halves are listed. Sorted by strcmp (byte order), lower-case, no duplicates. */
#include "bm25.h"

#include <stdlib.h>
#include <string.h>

const char *const bm25_stopwords[] = {
    "ada",       "adakah",   "adalah",    "adanya",       "agar",      "akan",      "akankah",
    "aku",       "anda",     "antara",    "apa",          "apabila",   "apakah",    "apalagi",
    "atas",      "atau",     "bagaimana", "bagaimanakah", "bagi",      "bahwa",     "beberapa",
    "begitu",    "beliau",   "berapa",    "berapakah",    "bila",      "bilamana",  "bisakah",
    "bolehkah",  "dalam",    "dan",       "dapatkah",     "dari",      "daripada",  "demikian",
    "dengan",    "di",       "dia",       "dimana",       "dimanakah", "dll",       "dsb",
    "engkau",    "hal",      "haruskah",  "ia",           "ialah",     "ini",       "itu",
    "jelaskan",  "jika",     "juga",      "kah",          "kalau",     "kami",      "kamu",
    "kapan",     "kapankah", "karena",    "ke",           "kenapa",    "kepada",    "ketika",
    "kita",      "lah",      "maka",      "mana",         "manakah",   "manakala",  "masing",
    "melainkan", "mengapa",  "mengenai",  "menurut",      "mereka",    "merupakan", "namun",
    "nya",       "oleh",     "pada",      "para",         "pula",      "pun",       "saja",
    "sana",      "sangat",   "saya",      "sebagai",      "sebuah",    "sebutkan",  "secara",
    "sedangkan", "sehingga", "seperti",   "serta",        "sesuatu",   "si",        "siapa",
    "siapakah",  "sini",     "situ",      "suatu",        "supaya",    "tentang",   "terangkan",
    "terhadap",  "tersebut", "tetapi",    "untuk",        "uraikan",   "yaitu",     "yakni",
    "yang",      NULL,
};

static int bm25_cmp_word(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int bm25_is_stopword(const char *word)
{
    size_t n = sizeof bm25_stopwords / sizeof bm25_stopwords[0] - 1; /* without the NULL */
    if (word == NULL || word[0] == '\0')
        return 0;
    return bsearch(word, bm25_stopwords, n, sizeof bm25_stopwords[0], bm25_cmp_word) != NULL;
}
