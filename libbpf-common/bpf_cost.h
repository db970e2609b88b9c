/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a tool's BPF programs cost, from the kernel's BPF stats (run_time_ns, run_cnt): turned
 * on for the session only (BPF_ENABLE_STATS, whose descriptor keeps them on while it lives).
 */
#ifndef STALLKIT_BPF_COST_H
#define STALLKIT_BPF_COST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "json.h"

struct bpf_cost {
	int stats_fd;	  /* -1: stats were on already, or could not be turned on */
	bool known;	  /* stats were on */
	char why_not[96]; /* if not */
	uint64_t run_ns;  /* of the programs added */
	uint64_t runs;
};

/* Before the programs are attached */
void bpf_cost_begin(struct bpf_cost *c);
/* Adds a loaded program's time and runs so far */
void bpf_cost_add(struct bpf_cost *c, const struct bpf_program *prog);
void bpf_cost_end(struct bpf_cost *c);

/* "cost: the BPF programs ran ... (x% of a CPU), y us a sample": over duration_ns, per sample
 * (events, for a tool that counts them) */
void bpf_cost_print(FILE *out, const struct bpf_cost *c, uint64_t duration_ns, uint64_t samples);
/* "cost": {"known", "bpf_ns", "bpf_runs", "samples"} */
void bpf_cost_json(struct json *j, const struct bpf_cost *c, uint64_t samples);

#endif
