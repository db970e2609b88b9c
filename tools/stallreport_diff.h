/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stallreport --diff: what changed between two captures, by function and by stack. */
#ifndef STALLREPORT_DIFF_H
#define STALLREPORT_DIFF_H

#include <stdio.h>
#include "stallreport_stacks.h"

enum diff_format {
	DIFF_TEXT,
	DIFF_JSON,
	DIFF_SVG,
};

/*
 * base's values are scaled to after's duration (or, without durations, its total) before they
 * are compared.  top: how many functions and stacks are listed (0: all).  0, or -1 with a
 * message.
 */
int diff_report(FILE *out, enum diff_format fmt, const struct stackset *base,
		const struct stackset *after, size_t top);

#endif
