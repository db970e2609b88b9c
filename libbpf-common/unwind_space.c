// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "unwind_space.h"

int unwind_space_init(struct unwind_space *s, uint32_t size)
{
	memset(s, 0, sizeof(*s));
	s->free = malloc(sizeof(*s->free));
	if (!s->free)
		return -ENOMEM;
	s->cap = 1;
	s->size = size;
	if (size)
		s->free[s->n++] = (struct unwind_run){ 0, size };
	return 0;
}

long unwind_space_take(struct unwind_space *s, uint32_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		struct unwind_run *r = &s->free[i];
		uint32_t start = r->start;

		if (r->len < len)
			continue;
		r->start += len;
		r->len -= len;
		if (!r->len) {
			memmove(r, r + 1, (s->n - i - 1) * sizeof(*r));
			s->n--;
		}
		s->used += len;
		return start;
	}
	return -1;
}

void unwind_space_give(struct unwind_space *s, uint32_t start, uint32_t len)
{
	size_t i = 0;

	while (i < s->n && s->free[i].start < start)
		i++;
	s->used -= len;
	/* after the run before it, before the run after it, or both */
	if (i > 0 && s->free[i - 1].start + s->free[i - 1].len == start) {
		s->free[i - 1].len += len;
		if (i < s->n && start + len == s->free[i].start) {
			s->free[i - 1].len += s->free[i].len;
			memmove(&s->free[i], &s->free[i + 1], (s->n - i - 1) * sizeof(*s->free));
			s->n--;
		}
		return;
	}
	if (i < s->n && start + len == s->free[i].start) {
		s->free[i].start = start;
		s->free[i].len += len;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = 2 * s->cap;
		struct unwind_run *grown = realloc(s->free, cap * sizeof(*grown));

		if (!grown)
			return; /* the run is lost to later tables, not to correctness */
		s->free = grown;
		s->cap = cap;
	}
	memmove(&s->free[i + 1], &s->free[i], (s->n - i) * sizeof(*s->free));
	s->free[i] = (struct unwind_run){ start, len };
	s->n++;
}

void unwind_space_free(struct unwind_space *s)
{
	free(s->free);
	memset(s, 0, sizeof(*s));
}
