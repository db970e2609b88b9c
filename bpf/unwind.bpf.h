/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user-stack unwinder: walks the current thread's user stack with the tables userspace
 * built from each binary's call frame information (bpf/unwind.h, libbpf-common/unwinder.c).
 *
 * Each frame is checked against the process's executable mappings before it is kept, so no
 * frame is invented: where unwinding cannot go on, the stack ends with a mark that says why.
 * x86-64 only: elsewhere the stack is left empty, marked unsupported.
 */
#ifndef STALLKIT_UNWIND_BPF_H
#define STALLKIT_UNWIND_BPF_H

#include <bpf/bpf_core_read.h>
#include "stacks.h"
#include "unwind.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by userspace */
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* set by userspace */
	__type(key, struct unwind_page_key);
	__type(value, struct unwind_page);
} unwind_pages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* set by userspace */
	__type(key, __u32);
	__type(value, struct unwind_process);
} unwind_processes SEC(".maps");

/* processes whose tables userspace was asked for (unwind_requests): it lets them ask again once
 * a second */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} unwind_requested SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} unwind_requests SEC(".maps");

/* a stack is larger than the BPF stack: unwound here */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_frames);
} unwind_scratch SEC(".maps");

/* which send their requests through unwind_requests */
#include "python.bpf.h"
#include "v8.bpf.h"

struct ustack_walk {
	__u64 regs; /* the thread's user registers: a kernel pointer to its struct pt_regs */
	__u64 ip;
	__u64 sp;
	__u64 bp;
	__u64 ra_slot; /* where the return address in ip was read */
	const struct unwind_process *proc;
	struct stack_frames *out;
	__u32 n;
	__u32 stop;
	bool bp_known;
	bool ip_exact; /* ip is where the thread was, not a return address */
	bool in_eval;  /* a frame is in the interpreter's evaluation loop */
};

/* Userspace is asked for a process's tables (its first event, or code it mapped since), once
 * until it lets the process ask again */
static __always_inline void unwind_request(__u32 tgid)
{
	__u8 one = 1;

	/* a request that does not fit may be made again at the next event */
	if (!bpf_map_update_elem(&unwind_requested, &tgid, &one, BPF_NOEXIST) &&
	    bpf_ringbuf_output(&unwind_requests, &tgid, sizeof(tgid), 0))
		bpf_map_delete_elem(&unwind_requested, &tgid);
}

/*
 * A process's mappings; for a child that has not called exec since its fork, its parent's,
 * which it has a copy of: a fork storm needs no tables read for each child.
 */
static __always_inline const struct unwind_process *unwind_process_of(__u32 tgid)
{
	const struct unwind_process *p = bpf_map_lookup_elem(&unwind_processes, &tgid);
	struct task_struct *task;
	__u32 parent;

	if (p)
		return p;
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, self_exec_id) != BPF_CORE_READ(task, real_parent, self_exec_id))
		return NULL;
	parent = BPF_CORE_READ(task, real_parent, tgid);
	return bpf_map_lookup_elem(&unwind_processes, &parent);
}

/* Asks userspace for a process's tables ahead of its first stack: at the start of a call whose
 * stack is taken at its end, which may be the process's last moment (a short-lived sleep) */
static __always_inline void unwind_prepare(__u32 tgid)
{
	if (!unwind_process_of(tgid))
		unwind_request(tgid);
}

/* Binary searches run as bpf_loop() callbacks: the verifier checks a body once, where an
 * unrolled search multiplies its states by every branch of every step */
struct unwind_search {
	const void *in; /* the process (mappings), or NULL (rows) */
	__u64 key;
	__u32 lo;
	__u32 hi;
};

static long mapping_search_step(__u32 i, void *ctx)
{
	struct unwind_search *s = ctx;
	const struct unwind_process *p = s->in;
	__u32 mid = s->lo + (s->hi - s->lo) / 2;

	if (s->lo >= s->hi || mid >= UNWIND_MAX_MAPPINGS)
		return 1;
	if (s->key < p->maps[mid].start) {
		s->hi = mid;
	} else if (s->key >= p->maps[mid].end) {
		s->lo = mid + 1;
	} else {
		s->lo = mid;
		s->hi = mid + 1; /* found */
		return 1;
	}
	return 0;
}

static __always_inline const struct unwind_mapping *unwind_mapping_find(
	const struct unwind_process *p, __u64 addr)
{
	struct unwind_search s = { .in = p, .key = addr, .lo = 0, .hi = p->count };
	__u32 i;

	bpf_loop(10, mapping_search_step, &s, 0);
	i = s.lo;
	if (s.hi != i + 1 || i >= UNWIND_MAX_MAPPINGS || addr < p->maps[i].start ||
	    addr >= p->maps[i].end)
		return NULL;
	return &p->maps[i];
}

/* the last row at or below key, in [lo, hi) */
static long row_search_step(__u32 i, void *ctx)
{
	struct unwind_search *s = ctx;
	__u32 mid = s->lo + (s->hi - s->lo) / 2;
	const struct unwind_row *row;

	if (s->lo >= s->hi)
		return 1;
	row = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!row)
		return 1;
	if (row->pc <= s->key)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/* The row that holds at pc (a virtual address of the table's binary), NULL if none */
static __always_inline const struct unwind_row *unwind_row_find(__u32 table, __u64 pc)
{
	struct unwind_page_key key = { .table = table, .page = pc >> UNWIND_PAGE_SHIFT };
	const struct unwind_page *page = bpf_map_lookup_elem(&unwind_pages, &key);
	struct unwind_search s = { .key = pc };

	if (!page)
		return NULL;
	s.lo = page->first;
	s.hi = page->first + page->count;
	bpf_loop(32, row_search_step, &s, 0);
	if (s.lo == page->first)
		return NULL;
	s.lo--;
	return bpf_map_lookup_elem(&unwind_rows, &s.lo);
}

static __always_inline bool unwind_read(__u64 *out, __u64 addr)
{
	return !bpf_probe_read_user(out, sizeof(*out), (const void *)addr);
}

/* From the signal frame at sp (a struct ucontext: its mcontext's rbp, rsp and rip) */
static __always_inline __u32 unwind_signal_frame(struct ustack_walk *st)
{
	__u64 bp, ip, sp;

	if (!unwind_read(&bp, st->sp + 40 + 80) || !unwind_read(&ip, st->sp + 40 + 128) ||
	    !unwind_read(&sp, st->sp + 40 + 120))
		return UNWIND_STOP_UNREADABLE;
	st->bp = bp;
	st->ip = ip;
	st->sp = sp;
	st->bp_known = true;
	st->ip_exact = true; /* interrupted there */
	return UNWIND_GO_ON;
}

/* where pt_regs keeps each register, by DWARF number (x86-64: rax rdx rcx rbx rsi rdi rbp rsp
 * r8-r15, then rip) */
static const __u16 pt_regs_offset[17] = {
	80, 96, 88, 40, 104, 112, 32, 152, 72, 64, 56, 48, 24, 16, 8, 0, 128,
};

/* A frame whose return address is in a register: only the innermost frame's are known */
static __always_inline __u32 unwind_ra_in_register(struct ustack_walk *st,
						   const struct unwind_row *row)
{
	__u32 reg = (__u8)row->bp_offset;
	__u64 ra;

	if (st->n != 1 || reg > 16 || /* the innermost frame: the one just kept */
	    bpf_probe_read_kernel(&ra, sizeof(ra), (const void *)(st->regs + pt_regs_offset[reg])))
		return UNWIND_STOP_UNSUPPORTED;
	st->ip = ra;
	st->sp += row->cfa_offset;
	st->ip_exact = false;
	return ra ? UNWIND_GO_ON : UNWIND_STOP_ROOT;
}

static __always_inline bool unwind_cfa(struct ustack_walk *st, const struct unwind_row *row,
				       __u64 *cfa)
{
	switch (row->rule) {
	case UNWIND_CFA_SP:
		*cfa = st->sp + row->cfa_offset;
		return true;
	case UNWIND_CFA_BP:
		*cfa = st->bp + row->cfa_offset;
		return st->bp_known;
	case UNWIND_CFA_PLT:
		*cfa = st->sp + 8 + ((st->ip & 15) >= (__u64)row->cfa_offset ? 8 : 0);
		return true;
	case UNWIND_CFA_DEREF_BP:
		return st->bp_known && unwind_read(cfa, st->bp + row->cfa_offset);
	}
	return false;
}

/* A frame of code that keeps a frame pointer: rbp points at the saved rbp, the return address
 * above it */
static __always_inline __u32 unwind_frame_pointer(struct ustack_walk *st)
{
	__u64 ra, bp;

	if (!st->bp_known || st->bp < st->sp)
		return UNWIND_STOP_NO_INFO;
	if (!unwind_read(&ra, st->bp + 8) || !unwind_read(&bp, st->bp))
		return UNWIND_STOP_UNREADABLE;
	st->ra_slot = st->bp + 8;
	st->sp = st->bp + 16;
	st->bp = bp;
	st->ip = ra;
	st->ip_exact = false;
	return ra ? UNWIND_GO_ON : UNWIND_STOP_ROOT;
}

/*
 * A return address into the uretprobe trampoline: the kernel replaced the real one when a
 * uretprobe's function was entered, and keeps it in the thread's return instances, by the
 * stack slot it took it from.  Only the current thread's are at hand, which is the thread
 * unwound.
 */
struct uretprobe_search {
	struct return_instance *ri;
	__u64 slot;
	__u64 found; /* the return address replaced, 0 if none */
};

static long uretprobe_search_step(__u32 i, void *ctx)
{
	struct uretprobe_search *s = ctx;
	struct return_instance *ri = s->ri; /* a kernel type for CO-RE, not the search's */

	if (!ri)
		return 1;
	if (BPF_CORE_READ(ri, stack) == s->slot) {
		s->found = BPF_CORE_READ(ri, orig_ret_vaddr);
		return 1;
	}
	s->ri = BPF_CORE_READ(ri, next);
	return 0;
}

static __always_inline bool uretprobe_return_address(struct ustack_walk *st)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct uretprobe_search s = {
		.ri = BPF_CORE_READ(task, utask, return_instances), .slot = st->ra_slot,
	};

	bpf_loop(16, uretprobe_search_step, &s, 0);
	if (!s.found)
		return false;
	st->ip = s.found;
	return true;
}

/* One frame: keeps st->ip, then finds its caller (UNWIND_GO_ON) or says why there is none */
static __always_inline __u32 unwind_frame(struct ustack_walk *st, __u32 depth)
{
	__u64 lookup = st->ip_exact ? st->ip : st->ip - 1, cfa, ra, bp;
	const struct unwind_mapping *m = unwind_mapping_find(st->proc, lookup);
	const struct unwind_row *row;

	/* the trampoline's page is mapped at the process's first uprobe hit: perhaps after its
	 * mappings were read */
	if ((!m || m->kind == UNWIND_MAP_UPROBES) && !st->ip_exact &&
	    uretprobe_return_address(st)) {
		lookup = st->ip - 1;
		m = unwind_mapping_find(st->proc, lookup);
	}
	if (!m)
		return UNWIND_STOP_NOT_MAPPED;
	if (depth >= STACK_MAX_DEPTH - 1)
		return UNWIND_STOP_DEPTH;
	if (lookup >= st->proc->runtime.eval_start && lookup < st->proc->runtime.eval_end)
		st->in_eval = true;
	barrier_var(depth); /* the mask stays: the verifier may have lost the bound above */
	st->out->ips[depth & (STACK_MAX_DEPTH - 1)] = st->ip;
	st->n = depth + 1;
	switch (m->kind) {
	case UNWIND_MAP_TABLE:
		break;
	case UNWIND_MAP_ANON:
		if (!(m->flags & UNWIND_FP_WITHOUT_INFO))
			return UNWIND_STOP_JIT;
		if (st->proc->runtime.kind == RUNTIME_V8 && st->bp_known)
			v8_note_frame(&st->proc->runtime, st->bp, depth);
		return unwind_frame_pointer(st);
	case UNWIND_MAP_FULL:
		return UNWIND_STOP_TABLE_FULL;
	default:
		return UNWIND_STOP_NO_INFO;
	}
	row = unwind_row_find(m->table, lookup - m->bias);
	if ((!row || row->rule == UNWIND_NONE) && (m->flags & UNWIND_FP_WITHOUT_INFO)) {
		if (st->proc->runtime.kind == RUNTIME_V8 && st->bp_known)
			v8_note_frame(&st->proc->runtime, st->bp, depth); /* a builtin's frame */
		return unwind_frame_pointer(st);
	}
	if (!row || row->rule == UNWIND_NONE)
		return UNWIND_STOP_NO_INFO;
	if (row->rule == UNWIND_SIGNAL)
		return unwind_signal_frame(st);
	if (row->rule == UNWIND_ROOT)
		return UNWIND_STOP_ROOT;
	if (row->rule == UNWIND_RA_IN_REG)
		return unwind_ra_in_register(st, row);
	if (!unwind_cfa(st, row, &cfa))
		return UNWIND_STOP_UNSUPPORTED;
	if (cfa <= st->sp)
		return UNWIND_STOP_BAD_FRAME;
	st->ra_slot = cfa - 8;
	if (!unwind_read(&ra, st->ra_slot))
		return UNWIND_STOP_UNREADABLE;
	if (row->bp_offset == UNWIND_BP_UNDEFINED) {
		st->bp_known = false;
	} else if (row->bp_offset != UNWIND_BP_SAME) {
		if (!unwind_read(&bp, cfa + 8 * row->bp_offset))
			return UNWIND_STOP_UNREADABLE;
		st->bp = bp;
		st->bp_known = true;
	}
	if (!ra)
		return UNWIND_STOP_ROOT; /* a zero return address ends a stack by convention */
	st->ip = ra;
	st->sp = cfa;
	st->ip_exact = false;
	return UNWIND_GO_ON;
}

/* The depth is bpf_loop's index, which the verifier takes for any value: a count kept in st
 * would be a new constant each round, and the rounds' states would never converge */
static long unwind_frame_cb(__u32 i, void *ctx)
{
	struct ustack_walk *st = ctx;

	st->stop = unwind_frame(st, i);
	return st->stop != UNWIND_GO_ON;
}

/*
 * Unwinds the user stack of the current thread (of process tgid) from its user registers
 * (regs: the address of a struct pt_regs in the kernel: a syscall's, a uprobe's,
 * bpf_task_pt_regs()) into the per-CPU scratch, innermost first, ending with a mark that says
 * why it ends (UNWIND_STOP_ROOT: it reached the thread's first frame); the rest is zero.  An
 * interpreter's frames, if its evaluation loop is on the stack, come before the mark
 * (bpf/runtime.h).  Returns the number of entries written, mark included.
 *
 * A global function: the verifier checks it once, on its own, rather than again for every
 * path of the program that calls it (sched_switch's paths multiplied past the 1M limit).
 */
__noinline int unwind_user_global(__u32 tgid, __u64 regs)
{
	__u32 zero = 0;
	struct stack_frames *out = bpf_map_lookup_elem(&unwind_scratch, &zero);
	struct ustack_walk st = {
		.regs = regs, .out = out, .bp_known = true, .ip_exact = true,
		.stop = UNWIND_STOP_UNSUPPORTED,
	};

	if (!out)
		return 0;
	__builtin_memset(out, 0, sizeof(*out)); /* straight stores: no loop for the verifier */
#if defined(__TARGET_ARCH_x86)
	if (bpf_probe_read_kernel(&st.ip, sizeof(st.ip), &((struct pt_regs *)regs)->ip) ||
	    bpf_probe_read_kernel(&st.sp, sizeof(st.sp), &((struct pt_regs *)regs)->sp) ||
	    bpf_probe_read_kernel(&st.bp, sizeof(st.bp), &((struct pt_regs *)regs)->bp)) {
		st.stop = UNWIND_STOP_UNREADABLE;
		goto mark;
	}
	st.proc = unwind_process_of(tgid);
	if (!st.proc) {
		unwind_request(tgid);
		st.stop = UNWIND_STOP_NOT_READY;
		goto mark;
	}
	if (st.proc->runtime.kind == RUNTIME_V8)
		v8_frames_begin();
	bpf_loop(STACK_MAX_DEPTH, unwind_frame_cb, &st, 0);
	if (st.stop == UNWIND_STOP_NOT_MAPPED)
		unwind_request(tgid); /* perhaps code mapped since its mappings were read */
	if (st.in_eval && st.proc->runtime.kind == RUNTIME_PYTHON)
		st.n = python_frames(&st.proc->runtime, out, st.n);
	if (st.proc->runtime.kind == RUNTIME_V8)
		st.n = v8_frames_append(out, st.n);
mark:
#endif
	if (st.n < STACK_MAX_DEPTH) /* the root's mark too: the stack is known complete */
		out->ips[st.n++ & (STACK_MAX_DEPTH - 1)] = UNWIND_MARK(st.stop);
	return st.n;
}

/* Whether a stack of n entries ended because the process's tables were not ready: then a copy
 * lets userspace finish it */
static __always_inline bool unwind_wants_copy(const struct stack_frames *s, __u32 n)
{
	__u64 last = s->ips[(n - 1) & (STACK_MAX_DEPTH - 1)];

	return n && (last == UNWIND_MARK(UNWIND_STOP_NOT_READY) ||
		     last == UNWIND_MARK(UNWIND_STOP_NOT_MAPPED));
}

/* The registers and as much of the stack as can be read, up to UNWIND_COPY_BYTES: near the
 * top of a stack less can be read */
static __always_inline void unwind_copy_take(struct unwind_copy *c, const struct pt_regs *regs)
{
	c->len = 0;
#if defined(__TARGET_ARCH_x86)
	if (bpf_probe_read_kernel(&c->ip, sizeof(c->ip), &regs->ip) ||
	    bpf_probe_read_kernel(&c->sp, sizeof(c->sp), &regs->sp) ||
	    bpf_probe_read_kernel(&c->bp, sizeof(c->bp), &regs->bp))
		return;
	if (!bpf_probe_read_user(c->stack, UNWIND_COPY_BYTES, (void *)c->sp))
		c->len = UNWIND_COPY_BYTES;
	else if (!bpf_probe_read_user(c->stack, UNWIND_COPY_BYTES / 4, (void *)c->sp))
		c->len = UNWIND_COPY_BYTES / 4;
	else if (!bpf_probe_read_user(c->stack, UNWIND_COPY_BYTES / 16, (void *)c->sp))
		c->len = UNWIND_COPY_BYTES / 16;
#endif
}

/* unwind_user_global(), and the scratch it unwound into (NULL: none) with *n set */
static __always_inline struct stack_frames *unwind_user_scratch(__u32 tgid,
								const struct pt_regs *regs,
								__u32 *n)
{
	__u64 address = 0;
	__u32 zero = 0;

	/* a global function takes scalars: the pointer's value, read off the stack */
	bpf_probe_read_kernel(&address, sizeof(address), &regs);
	*n = unwind_user_global(tgid, address);
	return bpf_map_lookup_elem(&unwind_scratch, &zero);
}

#endif
