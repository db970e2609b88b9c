/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Taking a leaf sample (leaf_sample.h) from a thread's saved user registers. */
#ifndef STALLKIT_LEAF_SAMPLE_BPF_H
#define STALLKIT_LEAF_SAMPLE_BPF_H

#include "leaf_sample.h"

/*
 * regs: the user registers (a syscall's, or those saved at the top of the kernel stack).
 * Returns false, with an ip of 0 that matches no stack, where leaf samples are not supported
 * (not x86-64) or the registers could not be read.
 */
static __always_inline bool leaf_sample_take(struct leaf_sample *s, const struct pt_regs *regs)
{
	s->regs[LEAF_REGS - 1] = 0;
	s->len = 0;
#if defined(__TARGET_ARCH_x86)
	struct pt_regs r;

	if (bpf_probe_read_kernel(&r, sizeof(r), regs))
		return false;
	s->regs[0] = r.ax;
	s->regs[1] = r.dx;
	s->regs[2] = r.cx;
	s->regs[3] = r.bx;
	s->regs[4] = r.si;
	s->regs[5] = r.di;
	s->regs[6] = r.bp;
	s->regs[7] = r.sp;
	s->regs[8] = r.r8;
	s->regs[9] = r.r9;
	s->regs[10] = r.r10;
	s->regs[11] = r.r11;
	s->regs[12] = r.r12;
	s->regs[13] = r.r13;
	s->regs[14] = r.r14;
	s->regs[15] = r.r15;
	s->regs[16] = r.ip;
	/* the whole window, else less: near the top of the stack the window runs off its end */
	s->len = LEAF_WINDOW;
	if (bpf_probe_read_user(s->stack, LEAF_WINDOW, (void *)r.sp)) {
		s->len = LEAF_WINDOW / 4;
		if (bpf_probe_read_user(s->stack, LEAF_WINDOW / 4, (void *)r.sp))
			s->len = 0;
	}
	return true;
#else
	(void)regs;
	return false;
#endif
}

#endif
