/* fcgi/handlers.h -- the request handlers, one file each (h_*.c). A handler answers through
 * req.h, at once or later from its own callbacks. */
#ifndef LX_FCGI_HANDLERS_H
#define LX_FCGI_HANDLERS_H

struct req;

void h_health(struct req *r);
void h_metrics(struct req *r);
void h_search(struct req *r);
void h_chat(struct req *r);
void h_chat_completions(struct req *r); /* POST /v1/chat/completions */
void h_conversation(struct req *r);     /* GET /api/conversations/{id} */
void h_test_hold(struct req *r);
void h_test_stream(struct req *r);
void h_test_echo(struct req *r);

#endif
