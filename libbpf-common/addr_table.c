// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "addr_table.h"

static uint64_t *slot_key(const struct addr_table *t, size_t i)
{
	return (uint64_t *)(t->records + i * t->size);
}

static size_t find(const struct addr_table *t, uint64_t addr)
{
	size_t i = (addr >> 3) * 0x9e3779b97f4a7c15ULL % t->cap;

	while (*slot_key(t, i) && *slot_key(t, i) != addr)
		i = (i + 1) % t->cap;
	return i;
}

static bool grow(struct addr_table *t)
{
	struct addr_table old = *t;

	t->cap = old.cap ? 2 * old.cap : 256;
	t->records = calloc(t->cap, t->size);
	if (!t->records) {
		*t = old;
		return false;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (*slot_key(&old, i))
			memcpy(t->records + find(t, *slot_key(&old, i)) * t->size,
			       old.records + i * t->size, t->size);
	free(old.records);
	return true;
}

void *addr_table_get(struct addr_table *t, uint64_t addr, bool *created)
{
	size_t i;

	*created = false;
	if (2 * (t->n + 1) > t->cap && !grow(t))
		return NULL;
	i = find(t, addr);
	if (!*slot_key(t, i)) {
		*slot_key(t, i) = addr;
		t->n++;
		*created = true;
	}
	return slot_key(t, i);
}

size_t addr_table_slots(const struct addr_table *t)
{
	return t->cap;
}

void *addr_table_slot(const struct addr_table *t, size_t i)
{
	return i < t->cap && *slot_key(t, i) ? slot_key(t, i) : NULL;
}

void addr_table_free(struct addr_table *t)
{
	free(t->records);
	t->records = NULL;
	t->n = t->cap = 0;
}
