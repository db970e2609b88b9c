// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finishing in userspace a stack that the BPF half could not unwind because the process's
 * tables were not built yet: the event carried the registers and the top of the stack, the
 * tables are built now, and the walk follows the same rules as bpf/unwind.bpf.h, reading the
 * copy instead of the process's memory.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "stacks.h"
#include "unwinder_internal.h"

struct walk {
	const struct unwind_copy *copy;
	__u64 ip, sp, bp;
	bool bp_known;
	bool ip_exact;
};

static bool read_copy(const struct walk *w, __u64 addr, __u64 *out)
{
	if (addr < w->copy->sp || addr - w->copy->sp > w->copy->len - sizeof(*out))
		return false;
	memcpy(out, w->copy->stack + (addr - w->copy->sp), sizeof(*out));
	return true;
}

static int address_in(const void *addr, const void *mapping)
{
	__u64 a = *(const __u64 *)addr;
	const struct unwind_mapping *m = mapping;

	return a < m->start ? -1 : a >= m->end;
}

static const struct unwind_mapping *mapping_find(const struct unwind_process *p, __u64 addr)
{
	size_t n = p->count < UNWIND_MAX_MAPPINGS ? p->count : UNWIND_MAX_MAPPINGS;

	return bsearch(&addr, p->maps, n, sizeof(*p->maps), address_in);
}

static unsigned int frame_pointer_step(struct walk *w)
{
	__u64 ra, bp;

	if (!w->bp_known || w->bp < w->sp)
		return UNWIND_STOP_NO_INFO;
	if (!read_copy(w, w->bp + 8, &ra) || !read_copy(w, w->bp, &bp))
		return UNWIND_STOP_UNREADABLE;
	w->sp = w->bp + 16;
	w->bp = bp;
	w->ip = ra;
	w->ip_exact = false;
	return ra ? UNWIND_GO_ON : UNWIND_STOP_ROOT;
}

static bool cfa_of(const struct walk *w, const struct unwind_row *row, __u64 *cfa)
{
	switch (row->rule) {
	case UNWIND_CFA_SP:
		*cfa = w->sp + row->cfa_offset;
		return true;
	case UNWIND_CFA_BP:
		*cfa = w->bp + row->cfa_offset;
		return w->bp_known;
	case UNWIND_CFA_PLT:
		*cfa = w->sp + 8 + ((w->ip & 15) >= (__u64)row->cfa_offset ? 8 : 0);
		return true;
	case UNWIND_CFA_DEREF_BP:
		return w->bp_known && read_copy(w, w->bp + row->cfa_offset, cfa);
	}
	return false;
}

/* One frame's caller, as unwind_frame() in bpf/unwind.bpf.h finds it */
static unsigned int step(struct unwinder *u, struct walk *w, const struct unwind_mapping *m,
			 __u64 lookup)
{
	const struct unwind_row *row = NULL;
	const struct unwind_table *t;
	__u64 cfa, ra, bp, v;

	if (m->kind == UNWIND_MAP_ANON)
		return m->flags & UNWIND_FP_WITHOUT_INFO ? frame_pointer_step(w) : UNWIND_STOP_JIT;
	if (m->kind == UNWIND_MAP_FULL)
		return UNWIND_STOP_TABLE_FULL;
	if (m->kind != UNWIND_MAP_TABLE)
		return UNWIND_STOP_NO_INFO;
	t = unwinder_table(u, m->table);
	if (t)
		row = unwind_table_find(t, lookup - m->bias);
	if ((!row || row->rule == UNWIND_NONE) && (m->flags & UNWIND_FP_WITHOUT_INFO))
		return frame_pointer_step(w);
	if (!row || row->rule == UNWIND_NONE)
		return UNWIND_STOP_NO_INFO;
	switch (row->rule) {
	case UNWIND_ROOT:
		return UNWIND_STOP_ROOT;
	case UNWIND_SIGNAL:
		if (!read_copy(w, w->sp + 40 + 80, &bp) || !read_copy(w, w->sp + 40 + 128, &v) ||
		    !read_copy(w, w->sp + 40 + 120, &w->sp))
			return UNWIND_STOP_UNREADABLE;
		w->bp = bp;
		w->ip = v;
		w->bp_known = w->ip_exact = true;
		return UNWIND_GO_ON;
	case UNWIND_RA_IN_REG:
		return UNWIND_STOP_UNSUPPORTED; /* the register was not copied */
	}
	if (!cfa_of(w, row, &cfa))
		return UNWIND_STOP_UNSUPPORTED;
	if (cfa <= w->sp)
		return UNWIND_STOP_BAD_FRAME;
	if (!read_copy(w, cfa - 8, &ra))
		return UNWIND_STOP_UNREADABLE;
	if (row->bp_offset == UNWIND_BP_UNDEFINED) {
		w->bp_known = false;
	} else if (row->bp_offset != UNWIND_BP_SAME) {
		if (!read_copy(w, cfa + 8 * row->bp_offset, &bp))
			return UNWIND_STOP_UNREADABLE;
		w->bp = bp;
		w->bp_known = true;
	}
	if (!ra)
		return UNWIND_STOP_ROOT;
	w->ip = ra;
	w->sp = cfa;
	w->ip_exact = false;
	return UNWIND_GO_ON;
}

static bool wants_copy(const __u64 *stack, size_t n)
{
	return n && (stack[n - 1] == UNWIND_MARK(UNWIND_STOP_NOT_READY) ||
		     stack[n - 1] == UNWIND_MARK(UNWIND_STOP_NOT_MAPPED));
}

size_t unwinder_finish(struct unwinder *u, pid_t pid, const __u64 *stack, size_t n,
		       const struct unwind_copy *copy, uint64_t *out, size_t max)
{
	struct walk w = { .copy = copy, .bp_known = true, .ip_exact = true };
	struct unwind_process *p = unwinder_scratch(u);
	unsigned int stop = UNWIND_STOP_DEPTH;
	__u32 key = pid;
	size_t k = 0;

	/* the mappings read again if the process is still there (code mapped since), else as
	 * they were read when the BPF half asked */
	if (u && copy && copy->len && wants_copy(stack, n))
		unwinder_add_process(u, pid);
	if (!u || !copy || !copy->len || !wants_copy(stack, n) ||
	    bpf_map_lookup_elem(bpf_map__fd(unwinder_maps(u)->processes), &key, p)) {
		n = n < max ? n : max;
		memcpy(out, stack, n * sizeof(*out));
		return n;
	}
	w.ip = copy->ip;
	w.sp = copy->sp;
	w.bp = copy->bp;
	while (k + 1 < max && k + 1 < STACK_MAX_DEPTH) {
		__u64 lookup = w.ip_exact ? w.ip : w.ip - 1;
		const struct unwind_mapping *m = mapping_find(p, lookup);

		if (!m) {
			stop = UNWIND_STOP_NOT_MAPPED;
			break;
		}
		out[k] = w.ip;
		stop = step(u, &w, m, lookup);
		k++;
		if (stop != UNWIND_GO_ON)
			break;
	}
	if (stop == UNWIND_GO_ON)
		stop = UNWIND_STOP_DEPTH;
	if (k < max)
		out[k++] = UNWIND_MARK(stop);
	return k;
}
