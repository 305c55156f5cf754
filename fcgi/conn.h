/* fcgi/conn.h -- one FastCGI connection from the web server: socket, record parser, output
 * queue, at most one live request (FCGI_MPXS_CONNS=0; FCGI_KEEP_CONN serves many in turn).
 * Output above server.out_high_bytes makes req_stream_full() true; the drain back below
 * out_low_bytes resumes the producer. The connection never waits on its request. */
#ifndef LX_FCGI_CONN_H
#define LX_FCGI_CONN_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct req;
struct worker;

struct conn *conn_new(struct worker *w, int fd); /* takes fd; NULL (fd closed) on failure */
/* Write a record stream of one type for request id (split into records as needed). */
int conn_write(struct conn *c, uint8_t type, uint16_t id, const void *p, size_t n);
/* The request ended: send FCGI_END_REQUEST, forget it, close unless it kept the conn. */
void conn_end_request(struct conn *c, struct req *r, uint32_t app_status);
size_t conn_out_bytes(const struct conn *c);
/* Close now, aborting its request (worker shutdown). */
void conn_close(struct conn *c);
int conn_is_idle(const struct conn *c); /* no live request */

#endif
