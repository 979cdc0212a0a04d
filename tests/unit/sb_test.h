/* sb_test.h — plain assertion macros for unit tests: count failures, keep going, exit code. */
#ifndef SB_TEST_H
#define SB_TEST_H

#include <math.h>
#include <stdio.h>

static int sb_test_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            sb_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double sb_a_ = (a), sb_b_ = (b);                                                           \
        if (!(fabs(sb_a_ - sb_b_) <= (tol))) {                                                     \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %g, %s = %g, tol %g\n", __FILE__,      \
                    __LINE__, #a, sb_a_, #b, sb_b_, (double)(tol));                                \
            sb_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        int sb_s_ = (int)(expr);                                                                   \
        if (sb_s_ != 0) {                                                                          \
            fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #expr, sb_s_);          \
            sb_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define TEST_RETURN()                                                                              \
    do {                                                                                           \
        if (sb_test_failures) fprintf(stderr, "%d check(s) failed\n", sb_test_failures);           \
        return sb_test_failures ? 1 : 0;                                                           \
    } while (0)

#endif
