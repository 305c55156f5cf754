/* fcgi/http_status.h -- the one table from enum lx_err to the HTTP status and error code of
 * the contract (http-api.md), and reason phrases for the CGI Status header. */
#ifndef LX_FCGI_HTTP_STATUS_H
#define LX_FCGI_HTTP_STATUS_H

#include "../shared/lx_err.h"

struct http_err {
    int status;
    const char *code; /* "invalid_json", "not_found", ... */
};

struct http_err http_err_of(enum lx_err e);
const char *http_reason(int status); /* "OK", "Not Found", ...; "Unknown" otherwise */

#endif
