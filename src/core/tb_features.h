/* Feature-test macros and compiler attributes; include first in every .c file. */
#ifndef TB_FEATURES_H
#define TB_FEATURES_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define TB_MUST_CHECK __attribute__((warn_unused_result))
#define TB_NORETURN __attribute__((noreturn))
#else
#define TB_PRINTF(fmt, args)
#define TB_MUST_CHECK
#define TB_NORETURN
#endif

#endif
