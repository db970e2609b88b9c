/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* profile: what profile.bpf.c and profile.c share (and offcputime.h: the rows are its rows). */
#ifndef STALLKIT_PROFILE_H
#define STALLKIT_PROFILE_H

#include "offcputime.h"

struct profile_config {
	__u64 period_ns; /* the CPU time a sample stands for */
	__u8 idle;	 /* -I: samples of the idle tasks too */
};

#endif
