/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * CPython's frames of the current thread, appended to its native stack (bpf/runtime.h).
 *
 * The thread's interpreter state is found by its thread ID in the interpreter's list of
 * threads, not as the holder of the GIL: a thread blocked in a call has released it.  Once
 * found it is cached by thread ID and checked again at each use.  What cannot be read ends the
 * frames with a note that says why; nothing is guessed.
 */
#ifndef STALLKIT_PYTHON_BPF_H
#define STALLKIT_PYTHON_BPF_H

#include "runtime.bpf.h"
#include "stacks.h"

#define PYTHON_MAX_THREADS 1024 /* thread states searched for the current thread's */
#define PYTHON_MAX_FRAMES  96

/* thread ID -> its PyThreadState */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} python_threads SEC(".maps");

/*
 * A walk through the thread's interpreter state, in one struct (the BPF stack of a tool's
 * program, the unwinder's and this walk's together must fit in 512 bytes): first through the
 * interpreter's thread states for the thread's own, then through its frames.
 */
struct python_walk {
	const struct python_layout *layout;
	__u64 at;   /* the thread state, then the frame, to look at next */
	__u32 base; /* entries before the first frame */
	__u32 n;    /* frames written */
	__u32 loss; /* enum runtime_loss, 0 if none */
	bool found; /* the thread's state is at */
};

static long python_thread_step(__u32 i, void *ctx)
{
	struct python_walk *w = ctx;
	__u64 tid;

	if (!w->at) {
		w->loss = RUNTIME_LOSS_THREAD;
		return 1;
	}
	if (!runtime_read(&tid, w->at + w->layout->thread_tid)) {
		w->loss = RUNTIME_LOSS_UNREADABLE;
		return 1;
	}
	if ((__u32)tid == (__u32)bpf_get_current_pid_tgid()) {
		w->found = true;
		return 1;
	}
	if (!runtime_read(&w->at, w->at + w->layout->thread_next)) {
		w->loss = RUNTIME_LOSS_UNREADABLE;
		return 1;
	}
	return 0;
}

/* The current thread's PyThreadState into w->at (w->found), or w->loss says why not */
static __always_inline void python_thread_state(const struct unwind_runtime *rt,
						struct python_walk *w)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *cached = bpf_map_lookup_elem(&python_threads, &tid), id;

	if (cached && runtime_read(&id, *cached + rt->python.thread_tid) && id == tid) {
		w->at = *cached;
		w->found = true;
		return;
	}
	if (!runtime_read(&w->at, rt->state + rt->python.runtime_interpreters) ||
	    !runtime_read(&w->at, w->at + rt->python.interp_threads)) {
		w->loss = RUNTIME_LOSS_UNREADABLE;
		return;
	}
	bpf_loop(PYTHON_MAX_THREADS, python_thread_step, w, 0);
	if (w->found)
		bpf_map_update_elem(&python_threads, &tid, &w->at, BPF_ANY);
	else if (!w->loss)
		w->loss = RUNTIME_LOSS_THREAD;
}

/* One frame: its code object, the instruction it was at, whether the loop entered it */
static long python_frame_step(__u32 i, void *ctx)
{
	struct python_walk *w = ctx;
	const struct python_layout *l = w->layout;
	__u64 code, instr, previous, lasti = PY_FRAME_LASTI_NONE, pos = w->base + i;
	struct stack_frames *out = NULL;
	__u32 zero = 0;
	__u8 entry = 0, owner = 0;

	if (!w->at)
		return 1;
	if (pos >= STACK_MAX_DEPTH - 2) { /* room for a note and the mark */
		w->loss = RUNTIME_LOSS_DEPTH;
		return 1;
	}
	if (!runtime_read(&code, w->at + l->frame_code) ||
	    !runtime_read(&instr, w->at + l->frame_instr) ||
	    !runtime_read(&previous, w->at + l->frame_previous) ||
	    (l->frame_is_entry != PY_NONE &&
	     bpf_probe_read_user(&entry, 1, (const void *)(w->at + l->frame_is_entry))) ||
	    (l->frame_owner != PY_NONE &&
	     bpf_probe_read_user(&owner, 1, (const void *)(w->at + l->frame_owner))) ||
	    (code & 7) || code >> 47) {
		w->loss = RUNTIME_LOSS_UNREADABLE;
		return 1;
	}
	out = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!out)
		return 1;
	w->n = i + 1;
	w->at = previous;
	if (l->frame_owner != PY_NONE && owner == l->owner_cstack) {
		out->ips[pos & (STACK_MAX_DEPTH - 1)] = PY_ENTRY_BOUNDARY;
		return 0;
	}
	/* prev_instr is one code unit (2 bytes) before the first while the frame starts */
	if (instr >= code + l->code_bytecode && (instr - code - l->code_bytecode) / 2 < lasti)
		lasti = (instr - code - l->code_bytecode) / 2;
	runtime_tell(RUNTIME_PYTHON, code);
	out->ips[pos & (STACK_MAX_DEPTH - 1)] = PY_FRAME(code, lasti, entry);
	return 0;
}

/*
 * Appends the current thread's interpreter frames to the n entries of out (the unwinder's
 * scratch, where the walk's steps write them), innermost first, and a note if they are
 * incomplete; returns the new count.  Leaves room for the mark.
 *
 * A global function: its stack is its own, not added to that of the unwinder's walk (the BPF
 * stack of a tool's program, the walk and its searches together must fit in 512 bytes).
 */
__noinline int python_frames(const struct unwind_runtime *rt, struct stack_frames *out, __u32 n)
{
	struct python_walk w = { .base = n };

	if (!rt || !out || n >= STACK_MAX_DEPTH - 2)
		return n;
	w.layout = &rt->python;
	python_thread_state(rt, &w);
	/* the thread's current frame: thread->cframe->current_frame, or thread->current_frame */
	if (w.found && (!runtime_read(&w.at, w.at + rt->python.thread_frame) ||
			(rt->python.cframe_frame != PY_NONE &&
			 !runtime_read(&w.at, w.at + rt->python.cframe_frame))))
		w.loss = RUNTIME_LOSS_UNREADABLE;
	if (!w.loss)
		bpf_loop(PYTHON_MAX_FRAMES, python_frame_step, &w, 0);
	if (!w.loss && w.at)
		w.loss = RUNTIME_LOSS_DEPTH;
	n += w.n;
	if (w.loss && n < STACK_MAX_DEPTH - 1)
		out->ips[n++ & (STACK_MAX_DEPTH - 1)] = RUNTIME_NOTE(w.loss);
	return n;
}

#endif
