/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stallreport's own forms: the metadata, stacks as text blocks, folded stacks, JSON. */
#ifndef STALLREPORT_PRINT_H
#define STALLREPORT_PRINT_H

#include <stdio.h>
#include "capture.h"
#include "stallreport_stacks.h"

/* --info: who traced what, when, why, and how the session ended */
void print_info(FILE *out, const struct capture_data *d);
/* The stacks as the tools print them (innermost frame first), the largest first; top 0: all */
void print_stack_blocks(FILE *out, const struct stackset *s, size_t top);
/* comm;root..leaf VALUE, VALUE in microseconds (or counts), as the tools' -f */
void print_folded(FILE *out, const struct stackset *s);
/* The metadata of the captures, their own reports, and the merged stacks */
void print_json(FILE *out, const struct stackset *s, const struct capture_data *caps,
		size_t ncaps, size_t top);
/* "1.23 s", "45.6 ms", "789 us", or a number with the counts' name */
char *format_value(char *buf, size_t len, const struct stackset *s, uint64_t value);
/* "tool on host, target, from..to, tags": a title line for capture d */
char *capture_title(const struct capture_data *d);

#endif
