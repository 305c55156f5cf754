/* shared/defs.c -- numbered definitions of a Ketentuan Umum article (see defs.h).
 *
 * One pass over the bytes. A marker is a number of 1-3 digits (or one lower-case letter) and a
 * '.', followed by white space or an upper-case letter, standing at a boundary: the start of
 * the text or a line, or after white space whose previous non-space byte ends a clause
 * (. ; :). Mid-sentence (after other white space) a marker counts only before a capital: the
 * first "1." ("yang dimaksud dengan 1. Ciptaan", colon lost to OCR) or the next number ("...
 * potensial 6. Benih", full stop lost). After the first, only the next number in sequence
 * opens an item; a larger one is accepted at a line start only (sources that lost some
 * items); the current number again restarts the current item while it has no "adalah" (OCR
 * page breaks repeat "8. Dana"). "dalam angka 2. 3. X" is item 3 only: "2." is followed by
 * "3", not a capital. */
#include "defs.h"

#include <string.h>

#define DEFS_MAX_JUMP       50  /* a gap larger than this at a line start is not trusted */
#define DEFS_TERM_MAX_BYTES 300 /* a term marker further in is not this item's term */

enum defs_style { DEFS_NONE, DEFS_DIGITS, DEFS_LETTERS };

static int defs_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int defs_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* 2: i starts a line (or the text); 1: after white space following . ; : ; 0: other white
 * space before i; -1: no white space before i. */
static int defs_boundary(const char *t, size_t i)
{
    if (i == 0 || t[i - 1] == '\n' || t[i - 1] == '\r')
        return 2;
    if (!defs_space(t[i - 1]))
        return -1;
    size_t j = i - 1;
    while (j > 0 && defs_space(t[j - 1]) && t[j - 1] != '\n')
        j--;
    if (j == 0 || t[j - 1] == '\n')
        return 2;
    char p = t[j - 1];
    return p == '.' || p == ';' || p == ':' ? 1 : 0;
}

/* A marker at i: its number and where the item's text begins; 0 if none. */
static unsigned defs_marker(const char *t, size_t len, size_t i, enum defs_style style,
                            size_t *body)
{
    unsigned num = 0;
    size_t j = i;
    if (style != DEFS_LETTERS && t[j] >= '0' && t[j] <= '9') {
        while (j < len && j - i < 3 && t[j] >= '0' && t[j] <= '9')
            num = num * 10 + (unsigned)(t[j++] - '0');
        if (j < len && t[j] >= '0' && t[j] <= '9')
            return 0; /* four digits: a year, not an item */
        if (style == DEFS_NONE && num != 1)
            return 0;
    } else if (style != DEFS_DIGITS && t[j] >= 'a' && t[j] <= 'z') {
        num = (unsigned)(t[j++] - 'a') + 1;
        if (style == DEFS_NONE && num != 1)
            return 0;
    } else {
        return 0;
    }
    if (num == 0 || j + 1 >= len || t[j] != '.')
        return 0;
    j++;
    if (!defs_space(t[j]) && !defs_upper(t[j]))
        return 0;
    while (j < len && defs_space(t[j]))
        j++;
    if (j >= len)
        return 0;
    *body = j;
    return num;
}

static int defs_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 1 if word (with its leading " " or ", ") is at t[i..e) and ends there or before a non-letter. */
static int defs_word_at(const char *t, size_t i, size_t e, const char *word)
{
    size_t n = strlen(word);
    return i + n <= e && memcmp(t + i, word, n) == 0 && (i + n == e || !defs_alpha(t[i + n]));
}

/* Where the defined term ends in t[s..e): the first term marker, or s if there is none. */
static size_t defs_term_end(const char *t, size_t s, size_t e)
{
    static const char *const marks[] = {
        " adalah",           " ialah", " yaitu", " merupakan", ", yang selanjutnya",
        " yang selanjutnya", NULL};
    size_t lim = e - s > DEFS_TERM_MAX_BYTES ? s + DEFS_TERM_MAX_BYTES : e;
    for (size_t i = s; i < lim; i++) {
        if (t[i] != ' ' && t[i] != ',')
            continue;
        for (int m = 0; marks[m] != NULL; m++)
            if (defs_word_at(t, i, e, marks[m]))
                return i;
    }
    return s;
}

static int defs_has_adalah(const char *t, size_t s, size_t e)
{
    for (size_t i = s; i < e; i++)
        if (t[i] == ' ' && defs_word_at(t, i, e, " adalah"))
            return 1;
    return 0;
}

/* Trim the item [start, end), then find its term. */
static void defs_finish(const char *t, struct defs_item *it)
{
    while (it->end > it->start && defs_space(t[it->end - 1]))
        it->end--;
    size_t te = defs_term_end(t, it->start, it->end);
    size_t ts = it->start;
    while (ts < te && (t[ts] == '"' || defs_space(t[ts])))
        ts++;
    while (te > ts && (t[te - 1] == '"' || t[te - 1] == ',' || defs_space(t[te - 1])))
        te--;
    it->term_start = ts;
    it->term_end = te > ts ? te : ts;
}

size_t defs_split(const char *text, size_t len, struct defs_item *out, size_t max)
{
    enum defs_style style = DEFS_NONE;
    unsigned expect = 1;
    size_t n = 0;
    struct defs_item cur = {0};
    int open = 0;

    if (text == NULL || max == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int bd = defs_boundary(text, i);
        if (bd < 0)
            continue;
        size_t body;
        unsigned num = defs_marker(text, len, i, style, &body);
        if (num == 0)
            continue;
        if (bd == 0 && !defs_upper(text[body]))
            continue; /* mid-sentence, only before a capital: "... potensial 6. Benih" */
        if (open && num + 1 == expect && !defs_has_adalah(text, cur.start, i)) {
            cur.marker = i; /* the same number again, the first was a stray copy */
            cur.start = body;
            i = body - 1;
            continue;
        }
        if (bd == 0 && style != DEFS_NONE && num != expect)
            continue;
        if (num != expect && !(num > expect && num <= expect + DEFS_MAX_JUMP && bd == 2))
            continue;
        if (style == DEFS_NONE)
            style = text[i] >= '0' && text[i] <= '9' ? DEFS_DIGITS : DEFS_LETTERS;
        if (open) {
            cur.end = i;
            defs_finish(text, &cur);
            out[n++] = cur;
            if (n == max)
                return n;
        }
        cur.num = num;
        cur.marker = i;
        cur.start = body;
        open = 1;
        expect = num + 1;
        i = body - 1;
    }
    if (open) {
        cur.end = len;
        defs_finish(text, &cur);
        out[n++] = cur;
    }
    return n;
}
