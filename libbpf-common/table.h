/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A small text table: add cells row by row, then print with columns as wide as they need. */
#ifndef STALLKIT_TABLE_H
#define STALLKIT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 16

struct table {
	char *spec; /* owned copy of the column names */
	size_t ncols;
	const char *names[TABLE_MAX_COLS];
	bool left[TABLE_MAX_COLS]; /* left-aligned (text), else right-aligned (numbers) */
	char **cells;		   /* row after row, owned */
	size_t ncells;
};

/* spec: column names separated by spaces; a name starting with '<' is left-aligned. */
void table_init(struct table *t, const char *spec);
/* The next cell; a row is complete after one cell per column. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
