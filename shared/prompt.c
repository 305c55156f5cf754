/* shared/prompt.c -- the chat model's messages (prompt.h). */
#include "prompt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char prompt_system[] =
    "Anda adalah asisten hukum yang menjawab pertanyaan tentang peraturan perundang-undangan "
    "Indonesia. Jawablah hanya berdasarkan pasal-pasal yang diberikan, dalam bahasa Indonesia "
    "yang jelas. Setiap pernyataan harus merujuk pasal sumbernya dengan nomor rujukan dalam "
    "kurung siku, misalnya [1] atau [2]. Jika pasal-pasal yang diberikan tidak menjawab "
    "pertanyaan, katakan demikian dengan jujur dan jangan mengarang isi peraturan. Jawaban "
    "Anda bukan nasihat hukum.";

/* Bytes of s that hold at most max characters, ending at a UTF-8 boundary. */
static size_t utf8_prefix(const char *s, size_t max_chars)
{
    size_t i = 0, chars = 0;
    while (s[i] != '\0') {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (chars == max_chars)
                break;
            chars++;
        }
        i++;
    }
    return i;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *len + n + 1)
            c *= 2;
        char *nb = realloc(*buf, c);
        if (nb == NULL)
            return -1;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static int appends(char **buf, size_t *len, size_t *cap, const char *s)
{
    return append(buf, len, cap, s, strlen(s));
}

json_t *prompt_messages(const char *question, const struct prompt_article *arts, size_t narts,
                        const struct prompt_turn *turns, size_t nturns, size_t history_max_chars,
                        size_t article_max_chars)
{
    json_t *msgs = json_array();
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int bad = msgs == NULL || json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "system",
                                                                    "content", prompt_system)) != 0;
    /* History: the newest turns that fit, sent oldest first. */
    size_t first = nturns, used = 0;
    while (first > 0) {
        size_t c = strlen(turns[first - 1].content);
        if (used + c > history_max_chars)
            break;
        used += c;
        first--;
    }
    for (size_t i = first; i < nturns && !bad; i++)
        bad = json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", turns[i].role, "content",
                                                    turns[i].content)) != 0;
    bad = bad ||
          appends(&buf, &len, &cap,
                  narts ? "Pasal-pasal yang relevan:\n\n" : "Tidak ada pasal yang ditemukan.\n\n");
    for (size_t i = 0; i < narts && !bad; i++) {
        char head[512];
        snprintf(head, sizeof head, "[%zu] %s, Pasal %s%s%s%s\n", i + 1, arts[i].title,
                 arts[i].pasal, arts[i].ayat ? " ayat (" : "", arts[i].ayat ? arts[i].ayat : "",
                 arts[i].ayat ? ")" : "");
        size_t n = utf8_prefix(arts[i].text, article_max_chars);
        bad = appends(&buf, &len, &cap, head) || append(&buf, &len, &cap, arts[i].text, n) ||
              appends(&buf, &len, &cap, arts[i].text[n] ? " ...\n\n" : "\n\n");
    }
    bad = bad || appends(&buf, &len, &cap, "Pertanyaan: ") || appends(&buf, &len, &cap, question);
    if (!bad)
        bad = json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content", buf)) !=
              0;
    free(buf);
    if (bad) {
        json_decref(msgs);
        return NULL;
    }
    return msgs;
}
