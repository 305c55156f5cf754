/* shared/prompt.h -- the messages sent to an OpenAI-compatible chat model: a system prompt
 * for answering Indonesian legal questions only from the given articles, the last turns of
 * the conversation (newest kept first, within a character budget), and the question with the
 * retrieved articles numbered [1], [2], ... so that the answer can cite them. Pure: builds
 * Jansson values, no I/O. */
#ifndef LX_SHARED_PROMPT_H
#define LX_SHARED_PROMPT_H

#include <stddef.h>

typedef struct json_t json_t;

struct prompt_article {
    const char *title, *pasal, *ayat /* NULL */, *text;
};

struct prompt_turn {
    const char *role; /* "user" or "assistant" */
    const char *content;
};

/* The system prompt, in Indonesian. */
extern const char prompt_system[];

/* messages: [{"role":"system",...}, history..., {"role":"user", articles + question}] as a new
 * JSON array, or NULL on ENOMEM. turns are oldest first; the newest that fit in
 * history_max_chars are kept (whole turns only). Each article's text is cut to
 * article_max_chars (at a UTF-8 boundary). */
json_t *prompt_messages(const char *question, const struct prompt_article *arts, size_t narts,
                        const struct prompt_turn *turns, size_t nturns, size_t history_max_chars,
                        size_t article_max_chars);

#endif
