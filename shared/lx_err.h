/* shared/lx_err.h -- the one error enum of lexrag. Functions return enum lx_err (LX_OK is 0);
 * lx_strerror() gives a short English description. fcgi/http_status.c maps each value to an
 * HTTP status and an error code of the contract (http-api.md). */
#ifndef LX_SHARED_LX_ERR_H
#define LX_SHARED_LX_ERR_H

enum lx_err {
    LX_OK = 0,
    LX_ENOMEM,    /* allocation failed; 503, the worker lives on */
    LX_EPROTO,    /* FastCGI / SSE / RESP framing broken: close the connection */
    LX_ETOOBIG,   /* over a limit of shared/limits.h or the config; 413 for bodies */
    LX_EBADJSON,  /* 400 invalid_json */
    LX_EINVAL,    /* 400 invalid_argument */
    LX_ENOTFOUND, /* 404 not_found */
    LX_EMETHOD,   /* 405 method_not_allowed */
    LX_ETIMEOUT,  /* a leg or request deadline passed; 504 */
    LX_EUPSTREAM, /* a backend failed; 503, or named in "degraded" */
    LX_EUNAVAIL,  /* a required backend is down or the worker is overloaded; 503 */
    LX_ECANCELED, /* FCGI_ABORT_REQUEST or the connection closed */
    LX_EIO,       /* a system call failed */
    LX_EUNAUTH,   /* 401 unauthorized */
    LX_ELIMIT,    /* 429 rate_limited */
    LX_ERR__MAX
};

const char *lx_strerror(enum lx_err e);

#endif
