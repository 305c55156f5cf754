/* shared/lx_err.c -- descriptions of enum lx_err, one table. */
#include "lx_err.h"

static const char *const lx_err_text[LX_ERR__MAX] = {
    [LX_OK] = "success",
    [LX_ENOMEM] = "out of memory",
    [LX_EPROTO] = "protocol error",
    [LX_ETOOBIG] = "over a size limit",
    [LX_EBADJSON] = "invalid JSON",
    [LX_EINVAL] = "invalid argument",
    [LX_ENOTFOUND] = "not found",
    [LX_EMETHOD] = "method not allowed",
    [LX_ETIMEOUT] = "timed out",
    [LX_EUPSTREAM] = "upstream failed",
    [LX_EUNAVAIL] = "unavailable",
    [LX_ECANCELED] = "canceled",
    [LX_EIO] = "input/output error",
    [LX_EUNAUTH] = "unauthorized",
    [LX_ELIMIT] = "rate limited",
};

const char *lx_strerror(enum lx_err e)
{
    if ((unsigned)e >= LX_ERR__MAX || lx_err_text[e] == 0)
        return "unknown error";
    return lx_err_text[e];
}
