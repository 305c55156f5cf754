/* tests/fuzz/fuzz_cite.c -- libFuzzer harness for the query parsers: cite_parse (shared/cite.c)
 * on the raw bytes (not NUL-terminated, so ASan sees any read past len) and split_query
 * (shared/split.c) on a NUL-terminated copy, checking what each promises:
 *   cite_parse: 0, or 1 with every field NUL-terminated, a non-empty pasal and doc_id, a year of
 *               0 (a code) or 1945..2100, and *out untouched on 0;
 *   split_query: 1..LX_SPLIT_MAX_PARTS parts (fewer when max is smaller), each NUL-terminated,
 *                trimmed, non-empty when there are several.
 * The first input byte picks max (1..LX_SPLIT_MAX_PARTS + 1) for split_query.
 *
 *   make fuzz      (builds build/fuzz/fuzz_cite; tests/fuzz/test_fuzz.sh runs it in make check)
 *   build/fuzz/fuzz_cite -dict=tests/fuzz/fuzz_cite.dict -max_total_time=60 -max_len=512 CORPUS
 *
 * (Debian 12: clang 14 needs libclang-rt-14-dev for -fsanitize=fuzzer.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../shared/arena.c"
#include "../../shared/cite.c"
#include "../../shared/split.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void fuzz_cite(const uint8_t *data, size_t size)
{
    struct cite c, before;
    memset(&c, 0x5a, sizeof c);
    before = c;
    if (!cite_parse((const char *)data, size, NULL, &c)) {
        if (memcmp(&c, &before, sizeof c) != 0)
            abort();
        return;
    }
    if (!fuzz_terminated(c.doc_type, sizeof c.doc_type) ||
        !fuzz_terminated(c.number, sizeof c.number) || !fuzz_terminated(c.pasal, sizeof c.pasal) ||
        !fuzz_terminated(c.ayat, sizeof c.ayat) || !fuzz_terminated(c.doc_id, sizeof c.doc_id) ||
        !fuzz_terminated(c.jo_doc_id, sizeof c.jo_doc_id))
        abort();
    if (c.pasal[0] == '\0' || c.doc_id[0] == '\0' || c.doc_type[0] == '\0')
        abort();
    if (c.year != 0 && (c.year < 1945 || c.year > 2100))
        abort();
}

static void fuzz_split(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    unsigned max = 1 + data[0] % (LX_SPLIT_MAX_PARTS + 1);
    char *q = malloc(size);
    if (q == NULL)
        return;
    memcpy(q, data + 1, size - 1);
    q[size - 1] = '\0';
    struct arena *a = arena_new(0);
    const char *parts[LX_SPLIT_MAX_PARTS + 2] = {0};
    unsigned n = a ? split_query(a, q, parts, max) : 1;
    if (a != NULL) {
        unsigned cap = max < LX_SPLIT_MAX_PARTS ? max : LX_SPLIT_MAX_PARTS;
        if (n < 1 || n > cap || parts[cap] != NULL)
            abort();
        for (unsigned k = 0; k < n; k++) {
            size_t l = strlen(parts[k]);
            if (n > 1 && l == 0)
                abort();
            if (l > 0 && (split_is_space((unsigned char)parts[k][0]) ||
                          split_is_space((unsigned char)parts[k][l - 1])))
                abort();
        }
    }
    arena_free(a);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cite(data, size);
    fuzz_split(data, size);
    return 0;
}
