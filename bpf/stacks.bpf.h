/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A store of stacks: each stack is read with bpf_get_stack(), hashed, and stored once under its
 * 64-bit hash.  The hash goes into the tool's aggregation keys; userspace reads the frames back.
 * Every stack that could not be read or stored is counted.
 */
#ifndef STALLKIT_STACKS_BPF_H
#define STALLKIT_STACKS_BPF_H

#include "loss.bpf.h"
#include "stacks.h"

/* preallocated: stacks are stored from contexts with interrupts off (sched_switch), where the
 * allocator of BPF_F_NO_PREALLOC maps cannot refill and fails */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024); /* --stack-storage-size */
	__type(key, __u64);
	__type(value, struct stack_frames);
} stacks SEC(".maps");

/* a stack is larger than the BPF stack: read it here */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_frames);
} stack_scratch SEC(".maps");

/* FNV-1a over the frames, from salt */
static __always_inline __u64 stack_hash(const struct stack_frames *s, __u32 n, __u64 salt)
{
	__u64 h = 0xcbf29ce484222325ULL ^ salt;

	for (__u32 i = 0; i < STACK_MAX_DEPTH; i++) {
		if (i >= n)
			break;
		h ^= s->ips[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

/* Stores the n frames in s (the rest zero) once, under their hash, which it returns (0 if it
 * could not be stored).  salt tells apart stacks whose frames are the same; *stored, if given,
 * tells whether this call stored the stack. */
static __always_inline __u64 stack_keep(struct stack_frames *s, __u32 n, __u64 salt, bool *stored)
{
	__u64 h = stack_hash(s, n, salt);

	if (!bpf_map_lookup_elem(&stacks, &h)) {
		long err = bpf_map_update_elem(&stacks, &h, s, BPF_NOEXIST);

		/* -EEXIST: another CPU stored the same stack first */
		if (err && err != -EEXIST) {
			loss_count(LOSS_STACK_MAP_FULL);
			return 0;
		}
		if (stored)
			*stored = !err;
	}
	return h;
}

/* The frames just read into the scratch (bytes: the helper's answer, 0 or less if it could not
 * read them), stored with stack_keep() */
static __always_inline __u64 stack_keep_read(struct stack_frames *s, long bytes, __u64 salt,
					     bool *stored)
{
	if (bytes <= 0) {
		loss_count(LOSS_STACK_READ);
		return 0;
	}
	return stack_keep(s, bytes / sizeof(__u64), salt, stored);
}

/* A stack of the current task, read with bpf_get_stack() (the user stack with
 * BPF_F_USER_STACK: by frame pointers; it zeroes what it does not fill) */
static __always_inline __u64 stack_store(void *ctx, __u64 flags, __u64 salt, bool *stored)
{
	__u32 zero = 0;
	struct stack_frames *s = bpf_map_lookup_elem(&stack_scratch, &zero);

	return s ? stack_keep_read(s, bpf_get_stack(ctx, s->ips, sizeof(s->ips), flags), salt,
				   stored) :
		   0;
}

/* The kernel stack of a task that is not running, read with bpf_get_task_stack() (which leaves
 * out the __sched functions) */
static __always_inline __u64 stack_store_task(struct task_struct *task, __u64 salt)
{
	__u32 zero = 0;
	struct stack_frames *s = bpf_map_lookup_elem(&stack_scratch, &zero);

	return s ? stack_keep_read(s, bpf_get_task_stack(task, s->ips, sizeof(s->ips), 0), salt,
				   NULL) :
		   0;
}

#endif
