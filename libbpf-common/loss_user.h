/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loss counters of bpf/loss.bpf.h, read and shown: nothing is lost silently. */
#ifndef STALLKIT_LOSS_USER_H
#define STALLKIT_LOSS_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "json.h"
#include "loss.h"

struct losses {
	uint64_t count[LOSS_KINDS];
	/* events the kernel skipped: the program was already running on the CPU
	 * (loader_recursion_misses) */
	uint64_t recursion_misses;
};

/* Sums the per-CPU counters of a tool's `losses` map (recursion_misses is the caller's). */
int losses_read(struct bpf_map *map, struct losses *out);
bool losses_any(const struct losses *l);
/* "lost: none", or one line per non-zero counter with what to do about it. */
void losses_print(FILE *out, const struct losses *l);
/* "lost": {"ringbuf_full": 0, ...}: every counter, zero or not. */
void losses_json(struct json *j, const struct losses *l);

#endif
