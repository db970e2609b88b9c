/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef STALLKIT_UTIL_H
#define STALLKIT_UTIL_H

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)    ((a) < (b) ? (a) : (b))
#define MAX(a, b)    ((a) > (b) ? (a) : (b))

#endif
