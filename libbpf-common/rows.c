// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include "rows.h"
#include "util.h"

/* The tree's compare has no context: each row carries its key's size before it */
struct row_node {
	size_t key_size;
	max_align_t row[];
};

#define NODE_OF(r) ((struct row_node *)((char *)(r) - offsetof(struct row_node, row)))

static int node_compare(const void *a, const void *b)
{
	const struct row_node *x = a, *y = b;

	return memcmp(x->row, y->row, x->key_size);
}

void rows_init(struct rows *t, size_t key_size, size_t row_size)
{
	memset(t, 0, sizeof(*t));
	t->key_size = key_size;
	t->row_size = row_size;
}

void *rows_get(struct rows *t, const void *key)
{
	struct row_node *node, **found;

	if (!t->probe) {
		t->probe = calloc(1, sizeof(struct row_node) + t->key_size);
		if (!t->probe)
			return NULL;
		((struct row_node *)t->probe)->key_size = t->key_size;
	}
	memcpy(((struct row_node *)t->probe)->row, key, t->key_size);
	found = tfind(t->probe, &t->index, node_compare);
	if (found)
		return (*found)->row;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void **grown = realloc(t->at, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->at = grown;
		t->cap = cap;
	}
	node = calloc(1, sizeof(*node) + t->row_size);
	if (!node)
		return NULL;
	node->key_size = t->key_size;
	memcpy(node->row, key, t->key_size);
	if (!tsearch(node, &t->index, node_compare)) {
		free(node);
		return NULL;
	}
	t->at[t->n++] = node->row;
	return node->row;
}

void rows_free(struct rows *t, void (*free_parts)(void *row))
{
	tdestroy(t->index, free_nothing);
	for (size_t i = 0; i < t->n; i++) {
		if (free_parts)
			free_parts(t->at[i]);
		free(NODE_OF(t->at[i]));
	}
	free(t->at);
	free(t->probe);
	memset(t, 0, sizeof(*t));
}
