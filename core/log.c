/* log.c — logging and progress through the caller's callbacks; thread count. */
#include "sb_core.h"

#include <stdarg.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void sb_log(const sb_ctx *ctx, sb_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->log) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log(ctx->user, level, buf);
}

void sb_progress(const sb_ctx *ctx, const char *step, size_t done, size_t total) {
    if (ctx && ctx->progress) ctx->progress(ctx->user, step, done, total);
}

int sb_ctx_threads(const sb_ctx *ctx) {
    if (ctx && ctx->threads > 0) return ctx->threads;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
