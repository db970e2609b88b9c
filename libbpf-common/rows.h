/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rows found by a fixed-size key, the first bytes of each row: a report's lines as they are
 * harvested from BPF maps, kept in the order they first came.
 */
#ifndef STALLKIT_ROWS_H
#define STALLKIT_ROWS_H

#include <stddef.h>

struct rows {
	void **at; /* the rows, in order of creation */
	size_t n, cap;
	size_t key_size, row_size;
	void *index; /* tsearch tree by key */
	void *probe; /* a key being looked up, as the tree holds one */
};

void rows_init(struct rows *t, size_t key_size, size_t row_size);
/* The row of key, created zeroed but for its key if new; NULL if out of memory */
void *rows_get(struct rows *t, const void *key);
/* Frees every row, after free_parts(row) (if given) freed what the row points to */
void rows_free(struct rows *t, void (*free_parts)(void *row));

#endif
