/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * V8's JavaScript frames: as the unwinder walks a frame of V8's code by its frame pointer, the
 * frame's function is noted (its SharedFunctionInfo, and an interpreted frame's bytecode
 * offset), and once the walk is done the functions are appended to the stack (bpf/runtime.h).
 * A frame whose context slot holds a marker is one of V8's own (entry, exit, stub frames): it
 * has no function.
 */
#ifndef STALLKIT_V8_BPF_H
#define STALLKIT_V8_BPF_H

#include "runtime.bpf.h"
#include "stacks.h"

#define V8_MAX_FRAMES 48
#define V8_SLOTS      5 /* the words below a frame pointer that are read: fp - 40 .. fp - 8 */

struct v8_frames {
	__u32 count;
	__u32 lost; /* functions past V8_MAX_FRAMES */
	__u64 slots[8];
	struct {
		__u64 sfi;
		__u64 bytecode; /* the bytecode array slot */
		__s32 offset;
		__u32 depth;
	} at[V8_MAX_FRAMES];
};

/* the functions of the stack being unwound (the BPF stack has no room for them) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct v8_frames);
} v8_scratch SEC(".maps");

static __always_inline void v8_frames_begin(void)
{
	__u32 zero = 0;
	struct v8_frames *v = bpf_map_lookup_elem(&v8_scratch, &zero);

	if (v)
		v->count = v->lost = 0;
}

/* The slot at off (from the frame pointer, -40 .. -8) of the words read */
static __always_inline __u64 v8_slot(const struct v8_frames *v, __s16 off)
{
	return v->slots[((off + 8 * V8_SLOTS) >> 3) & 7];
}

/*
 * The frame at depth in the stack, whose frame pointer is fp, runs V8's code: its function,
 * if it has one.  A global function: its stack is its own (see python_frames()).
 */
__noinline int v8_note_frame(const struct unwind_runtime *rt, __u64 fp, __u32 depth)
{
	__u32 zero = 0, k;
	struct v8_frames *v = bpf_map_lookup_elem(&v8_scratch, &zero);
	__u64 function, sfi, offset;

	if (!v || !rt ||
	    bpf_probe_read_user(v->slots, 8 * V8_SLOTS, (const void *)(fp - 8 * V8_SLOTS)) ||
	    !(v8_slot(v, rt->v8.fp_context) & 1)) /* a marker (a Smi): no function */
		return 0;
	function = v8_slot(v, rt->v8.fp_function);
	offset = v8_slot(v, rt->v8.fp_bytecode_offset);
	if ((function & 3) != 1 || !runtime_read(&sfi, function - 1 + rt->v8.function_shared) ||
	    (sfi & 3) != 1 || sfi >> 47)
		return 0;
	k = v->count;
	if (k >= V8_MAX_FRAMES) {
		v->lost = 1;
		return 0;
	}
	v->at[k].sfi = sfi;
	/* a Smi, its value in the upper half, in an interpreted frame; else something else */
	v->at[k].offset = offset & 1 ? V8_POS_NONE : (__s32)(offset >> 32);
	v->at[k].bytecode = v8_slot(v, rt->v8.fp_bytecode_array);
	v->at[k].depth = depth;
	v->count = k + 1;
	runtime_tell(RUNTIME_V8, sfi);
	return 0;
}

struct v8_append {
	struct stack_frames *out;
	const struct v8_frames *v;
	__u32 base;
	__u32 n; /* entries written */
	bool full;
};

static long v8_append_step(__u32 i, void *ctx)
{
	struct v8_append *a = ctx;
	__u32 pos = a->base + 3 * i;

	if (i >= a->v->count || i >= V8_MAX_FRAMES)
		return 1;
	if (pos >= STACK_MAX_DEPTH - 4) { /* room for a note and the mark */
		a->full = true;
		return 1;
	}
	a->out->ips[pos & (STACK_MAX_DEPTH - 1)] = V8_FRAME(a->v->at[i].depth, a->v->at[i].sfi);
	a->out->ips[(pos + 1) & (STACK_MAX_DEPTH - 1)] = V8_POS(a->v->at[i].offset);
	a->out->ips[(pos + 2) & (STACK_MAX_DEPTH - 1)] = V8_BYTECODE(a->v->at[i].bytecode);
	a->n = 3 * i + 3;
	return 0;
}

/* Appends the functions noted to the n entries of out; returns the new count (global: as
 * v8_note_frame()) */
__noinline int v8_frames_append(struct stack_frames *out, __u32 n)
{
	__u32 zero = 0;
	struct v8_frames *v = bpf_map_lookup_elem(&v8_scratch, &zero);
	struct v8_append a = { .out = out, .v = v, .base = n };

	if (!v || !out || n >= STACK_MAX_DEPTH - 4)
		return n;
	bpf_loop(V8_MAX_FRAMES, v8_append_step, &a, 0);
	n += a.n;
	if ((a.full || v->lost) && n < STACK_MAX_DEPTH - 1)
		out->ips[n++ & (STACK_MAX_DEPTH - 1)] = RUNTIME_NOTE(RUNTIME_LOSS_JS_DEPTH);
	return n;
}

#endif
