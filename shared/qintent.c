/* shared/qintent.c -- definition questions (qintent.h). Matching is on lower-cased ASCII with
 * runs of blanks folded; the term keeps the caller's spelling. A term of more than 8 words is
 * not a term: the question is then left to ordinary retrieval. */
#include "qintent.h"

#include <ctype.h>
#include <string.h>

#define QI_TERM_MAX_WORDS 8

/* Leading phrases, longest first where one is a prefix of another. */
static const char *const qi_heads[] = {
    "apa yang dimaksud dengan ",
    "apakah yang dimaksud dengan ",
    "yang dimaksud dengan ",
    "apa yang dimaksud ",
    "apa definisi dari ",
    "apa definisi ",
    "apakah definisi ",
    "apa pengertian dari ",
    "apa pengertian ",
    "apakah pengertian ",
    "apa arti dari ",
    "apa arti ",
    "apa maksud dari ",
    "apa maksud ",
    "apa itu ",
    "apakah itu ",
    "definisi dari ",
    "definisi ",
    "pengertian dari ",
    "pengertian ",
    "arti dari ",
    "jelaskan definisi ",
    "jelaskan pengertian ",
    "sebutkan definisi ",
    "sebutkan pengertian ",
};
/* Trailing phrases: "X adalah apa?", "X itu apa?". */
static const char *const qi_tails[] = {" adalah apa", " itu apa", " ialah apa", " artinya apa"};
/* Where a term stops: what follows names the law ("... menurut UU 31/1999"). */
static const char *const qi_stops[] = {" menurut ", " dalam ",    " berdasarkan ",
                                       " pada ",    " di dalam ", " sesuai "};

/* Lower-case copy with blanks folded and the ends trimmed; map[i] is the source index. */
static size_t qi_fold(const char *q, char *out, size_t *map, size_t cap)
{
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; q[i] != '\0' && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)q[i];
        if (isspace(c)) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < cap) {
            map[n] = i;
            out[n++] = ' ';
        }
        space = 0;
        map[n] = i;
        out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
    return n;
}

int qintent_definition(const char *q, char *term, size_t cap)
{
    char f[512];
    size_t map[512];
    size_t n = qi_fold(q, f, map, sizeof f);
    while (n > 0 && (f[n - 1] == '?' || f[n - 1] == '.' || f[n - 1] == '!' || f[n - 1] == ' '))
        f[--n] = '\0';
    size_t start = (size_t)-1, end = n;
    for (size_t i = 0; i < sizeof qi_heads / sizeof qi_heads[0]; i++) {
        size_t l = strlen(qi_heads[i]);
        if (n > l && strncmp(f, qi_heads[i], l) == 0) {
            start = l;
            break;
        }
    }
    if (start == (size_t)-1) {
        for (size_t i = 0; i < sizeof qi_tails / sizeof qi_tails[0]; i++) {
            size_t l = strlen(qi_tails[i]);
            if (n > l && strcmp(f + n - l, qi_tails[i]) == 0) {
                start = 0;
                end = n - l;
                break;
            }
        }
    }
    if (start == (size_t)-1)
        return 0;
    for (size_t i = 0; i < sizeof qi_stops / sizeof qi_stops[0]; i++) {
        const char *s = strstr(f + start, qi_stops[i]);
        if (s != NULL && (size_t)(s - f) < end)
            end = (size_t)(s - f);
    }
    while (end > start && (f[end - 1] == ' ' || f[end - 1] == ',' || f[end - 1] == '"'))
        end--;
    while (start < end && (f[start] == '"' || f[start] == ' '))
        start++;
    if (end <= start)
        return 0;
    unsigned words = 1;
    for (size_t i = start; i < end; i++) {
        words += f[i] == ' ';
        if (!(isalnum((unsigned char)f[i]) || f[i] == ' ' || f[i] == '-' || f[i] == '/' ||
              (unsigned char)f[i] >= 0x80))
            return 0; /* punctuation inside: a sentence, not a term */
    }
    size_t src0 = map[start], src1 = map[end - 1] + 1;
    if (words > QI_TERM_MAX_WORDS || src1 - src0 >= cap || src1 - src0 >= LX_QINTENT_TERM_MAX_BYTES)
        return 0;
    memcpy(term, q + src0, src1 - src0);
    term[src1 - src0] = '\0';
    return 1;
}
