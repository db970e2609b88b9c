/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef STALLKIT_LOSS_BPF_H
#define STALLKIT_LOSS_BPF_H

#include "loss.h"

/* what map inserts answer; errno macros are not in vmlinux.h */
#define EEXIST 17 /* inserted meanwhile by another CPU */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOSS_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

static __always_inline void loss_count(enum loss_kind kind)
{
	__u32 key = kind;
	__u64 *counter = bpf_map_lookup_elem(&losses, &key);

	if (counter)
		(*counter)++;
}

#endif
