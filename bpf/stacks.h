/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Stacks stored by BPF programs, keyed by a hash of their frames (bpf/stacks.bpf.h). */
#ifndef STALLKIT_STACKS_H
#define STALLKIT_STACKS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define STACK_MAX_DEPTH 128 /* the kernel's default perf_event_max_stack (127), and a mark */

/* A stack, innermost first; unused entries are 0 */
struct stack_frames {
	__u64 ips[STACK_MAX_DEPTH];
};

#endif
