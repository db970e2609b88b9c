/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the runtimes' walkers (bpf/python.bpf.h, bpf/v8.bpf.h) share: each object that names a
 * frame (a code object, a SharedFunctionInfo) is told to userspace the first time it is seen,
 * through the unwinder's requests, so that it is read while the process lives.
 */
#ifndef STALLKIT_RUNTIME_BPF_H
#define STALLKIT_RUNTIME_BPF_H

#include "runtime.h"

/* (process, object) pairs userspace was told of */
struct runtime_object_key {
	__u32 tgid;
	__u32 kind;
	__u64 object;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384); /* 1.2 MiB: a pair evicted is told again; userspace has it */
	__type(key, struct runtime_object_key);
	__type(value, __u8);
} runtime_objects_told SEC(".maps");

/* Userspace reads an object the first time it is seen (it may be retold after eviction) */
static __always_inline void runtime_tell(__u32 kind, __u64 object)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct runtime_object_key key = { .tgid = tgid, .kind = kind, .object = object };
	struct runtime_request req = { .tgid = tgid, .kind = kind, .object = object };
	__u8 one = 1;

	if (bpf_map_lookup_elem(&runtime_objects_told, &key))
		return;
	/* one that does not fit is told at its next sight */
	if (!bpf_map_update_elem(&runtime_objects_told, &key, &one, BPF_NOEXIST) &&
	    bpf_ringbuf_output(&unwind_requests, &req, sizeof(req), 0))
		bpf_map_delete_elem(&runtime_objects_told, &key);
}

/* A word of the process's memory */
static __always_inline bool runtime_read(__u64 *out, __u64 addr)
{
	return !bpf_probe_read_user(out, sizeof(*out), (const void *)addr);
}

#endif
