/* fcgi/http_status.c -- error-to-HTTP mapping and reason phrases (http_status.h). */
#include "http_status.h"

static const struct http_err http_errs[LX_ERR__MAX] = {
    [LX_OK] = {200, "ok"},
    [LX_ENOMEM] = {503, "unavailable"},
    [LX_EPROTO] = {502, "bad_gateway"},
    [LX_ETOOBIG] = {413, "payload_too_large"},
    [LX_EBADJSON] = {400, "invalid_json"},
    [LX_EINVAL] = {400, "invalid_argument"},
    [LX_ENOTFOUND] = {404, "not_found"},
    [LX_EMETHOD] = {405, "method_not_allowed"},
    [LX_ETIMEOUT] = {504, "timeout"},
    [LX_EUPSTREAM] = {503, "unavailable"},
    [LX_EUNAVAIL] = {503, "unavailable"},
    [LX_ECANCELED] = {499, "canceled"},
    [LX_EIO] = {500, "internal"},
    [LX_EUNAUTH] = {401, "unauthorized"},
    [LX_ELIMIT] = {429, "rate_limited"},
};

struct http_err http_err_of(enum lx_err e)
{
    if ((unsigned)e >= LX_ERR__MAX || http_errs[e].code == 0)
        return (struct http_err){500, "internal"};
    return http_errs[e];
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}
