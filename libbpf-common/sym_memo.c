// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Resolved addresses, by file and key (the address, and whether it is a return address).  A
 * report asks for an address as often as stacks hold it (every stack of a thread shares its
 * outer frames), and a tool that resolves stacks while it traces asks again at the end: the
 * second time is a hash probe and a copy.
 *
 * Only what differs between the frames of one address is kept (the module, its offset and the
 * build-id are the file's).  Open addressing, doubled when half full; the frames of all entries
 * in one array.  Memory: a 32-byte slot (at most half of them used) and 32 bytes per frame,
 * about 100 to 200 bytes per address (its inline chain), up to the budget; past it,
 * everything is dropped and the memo fills again.
 */
#include <stdlib.h>
#include <string.h>
#include "sym_internal.h"

#define MEMO_MIN_SLOTS 4096

struct sym_memo_frame {
	const char *function;
	const char *file;
	uint32_t line;
	uint32_t column;
	uint8_t kind;
	bool inlined;
};

struct sym_memo_slot {
	const struct sym_file *file; /* NULL: empty */
	uint64_t key;
	uint32_t first; /* in frames */
	uint32_t n;
	uint64_t function_offset; /* of the first frame */
};

struct sym_memo {
	struct sym_memo_slot *slots;
	size_t cap; /* a power of two */
	size_t used;
	struct sym_memo_frame *frames;
	size_t nframes, frames_cap;
	size_t budget; /* bytes */
};

struct sym_memo *sym_memo_new(size_t budget)
{
	struct sym_memo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->budget = budget;
	m->cap = MEMO_MIN_SLOTS;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void sym_memo_free(struct sym_memo *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->frames);
	free(m);
}

static size_t memo_bytes(const struct sym_memo *m)
{
	return m->cap * sizeof(*m->slots) + m->frames_cap * sizeof(*m->frames);
}

static struct sym_memo_slot *slot_of(struct sym_memo_slot *slots, size_t cap,
				     const struct sym_file *file, uint64_t key)
{
	uint64_t h = (key ^ (uintptr_t)file) * 0x9e3779b97f4a7c15ULL;
	size_t i = (h >> 32) & (cap - 1);

	while (slots[i].file && (slots[i].file != file || slots[i].key != key))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

size_t sym_memo_find(struct sym_memo *m, const struct sym_file *file, uint64_t key,
		     const struct sym_frame *base, struct sym_frame *out, size_t max)
{
	struct sym_memo_slot *s = slot_of(m->slots, m->cap, file, key);
	size_t n = s->n < max ? s->n : max;

	if (!s->file)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct sym_memo_frame *f = &m->frames[s->first + i];

		out[i] = *base;
		out[i].kind = f->kind;
		out[i].function = f->function;
		out[i].file = f->file;
		out[i].line = f->line;
		out[i].column = f->column;
		out[i].inlined = f->inlined;
	}
	out[0].function_offset = s->function_offset;
	return n;
}

/* Everything dropped: the memo is back to its first size */
static void memo_clear(struct sym_memo *m)
{
	struct sym_memo_slot *slots = calloc(MEMO_MIN_SLOTS, sizeof(*slots));

	if (slots) {
		free(m->slots);
		m->slots = slots;
		m->cap = MEMO_MIN_SLOTS;
	} else {
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	}
	m->used = 0;
	free(m->frames);
	m->frames = NULL;
	m->nframes = m->frames_cap = 0;
}

static bool memo_grow_slots(struct sym_memo *m)
{
	size_t cap = m->cap * 2;
	struct sym_memo_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].file)
			*slot_of(slots, cap, m->slots[i].file, m->slots[i].key) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return true;
}

static bool memo_grow_frames(struct sym_memo *m, size_t n)
{
	size_t cap = m->frames_cap ? m->frames_cap : 4096;
	struct sym_memo_frame *frames;

	while (cap < m->nframes + n)
		cap *= 2;
	if (cap == m->frames_cap)
		return true;
	frames = realloc(m->frames, cap * sizeof(*frames));
	if (!frames)
		return false;
	m->frames = frames;
	m->frames_cap = cap;
	return true;
}

void sym_memo_add(struct sym_memo *m, const struct sym_file *file, uint64_t key,
		  const struct sym_frame *frames, size_t n)
{
	struct sym_memo_slot *s;

	if (!n || n > UINT32_MAX || m->nframes + n > UINT32_MAX)
		return;
	if (memo_bytes(m) > m->budget)
		memo_clear(m);
	if ((m->used + 1 > m->cap / 2 && !memo_grow_slots(m)) || !memo_grow_frames(m, n))
		return; /* no memory: answered without the memo */
	s = slot_of(m->slots, m->cap, file, key);
	if (s->file)
		return;
	for (size_t i = 0; i < n; i++)
		m->frames[m->nframes + i] = (struct sym_memo_frame){
			.function = frames[i].function,
			.file = frames[i].file,
			.line = frames[i].line,
			.column = frames[i].column,
			.kind = frames[i].kind,
			.inlined = frames[i].inlined,
		};
	*s = (struct sym_memo_slot){ file, key, m->nframes, n, frames[0].function_offset };
	m->nframes += n;
	m->used++;
}
