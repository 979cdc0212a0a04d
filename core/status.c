/* status.c — status names and error messages. */
#include "sb_core.h"

#include <stdarg.h>

const char *sb_status_name(sb_status s) {
    switch (s) {
    case SB_OK:
        return "ok";
    case SB_ERR_INTERNAL:
        return "internal error";
    case SB_ERR_USAGE:
        return "usage error";
    case SB_ERR_INPUT:
        return "bad input";
    case SB_ERR_OUTPUT:
        return "cannot write output";
    case SB_ERR_MEMORY:
        return "not enough memory";
    case SB_ERR_EXISTS:
        return "output exists";
    case SB_ERR_LABEL:
        return "label absent";
    }
    return "unknown status";
}

sb_status sb_error_set(sb_error *err, sb_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}
