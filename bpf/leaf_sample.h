/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A leaf sample: a thread's user registers and the top of its user stack, taken with a
 * frame-pointer stack, for the symbolizer to put back the frames a frame-pointer walk misses
 * (the caller of a function that keeps no frame pointer: Debian's glibc).  See
 * symbolizer_user_stack_complete().
 */
#ifndef STALLKIT_LEAF_SAMPLE_H
#define STALLKIT_LEAF_SAMPLE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LEAF_REGS   17	 /* x86-64 DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, ip */
#define LEAF_WINDOW 1024 /* bytes of the stack from rsp */

struct leaf_sample {
	__u64 regs[LEAF_REGS];
	__u32 len; /* bytes of stack read: LEAF_WINDOW, less near the top of the stack, or 0 */
	__u32 pad;
	__u8 stack[LEAF_WINDOW];
};

#endif
