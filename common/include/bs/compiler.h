/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small compiler helpers shared by every part of Basalt: container_of,
 * branch hints, array sizes and attribute shorthands.
 */
#ifndef BS_COMPILER_H
#define BS_COMPILER_H

#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define BS_PRINTF(fmt, args)	__attribute__((format(printf, fmt, args)))
#define BS_UNUSED		__attribute__((unused))
#define BS_NORETURN		__attribute__((noreturn))

#define BS_MIN(a, b)	((a) < (b) ? (a) : (b))
#define BS_MAX(a, b)	((a) > (b) ? (a) : (b))
#define BS_ALIGN_UP(x, a)	(((x) + (a) - 1) / (a) * (a))
#define BS_ALIGN_DOWN(x, a)	((x) / (a) * (a))

#endif /* BS_COMPILER_H */
