/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a session costs the host: the run time of its BPF programs (the kernel's BPF stats,
 * turned on for the session with BPF_ENABLE_STATS, whose descriptor keeps them on while it
 * lives) plus its own process's CPU time, as a share of all the host's CPUs.  Measured from the
 * moment tracing begins; loading and attaching are counted apart, as start-up.
 */
#ifndef STALLKIT_COST_H
#define STALLKIT_COST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "json.h"

#define COST_MAX_OBJECTS 4

/* The counters at one moment */
struct cost_sample {
	uint64_t wall_ns; /* CLOCK_MONOTONIC */
	uint64_t bpf_ns;  /* the programs' run time */
	uint64_t runs;	  /* the programs' runs: the events */
	uint64_t cpu_ns;  /* the process's CPU time */
};

struct cost_meter {
	int stats_fd;	   /* -1: stats were on already, or could not be turned on */
	bool bpf_known;	   /* the programs' run time is measured */
	char why_not[112]; /* if not */
	unsigned int ncpus;
	struct bpf_object *objs[COST_MAX_OBJECTS];
	size_t nobjs;
	uint64_t startup_cpu_ns; /* the process's CPU until tracing began */
	struct cost_sample start, window;
};

/* Turns BPF stats on (before the programs are loaded: it may need a privilege dropped later) */
void cost_enable_stats(struct cost_meter *m);
/* Tracing begins: the programs of obj (and of any object added later) are measured from now */
void cost_start(struct cost_meter *m, struct bpf_object *obj);
void cost_add_object(struct cost_meter *m, struct bpf_object *obj);
/* The share of the host's CPU (percent) since the last call (or the start): the guard's window */
double cost_window(struct cost_meter *m);
void cost_stop(struct cost_meter *m);

/* "cost: 0.41% of 2 CPUs while tracing (BPF programs 0.30%, the tool 0.11%), 1.92 µs per event
 * (41230 events); start-up 182 ms of CPU" */
void cost_print(FILE *out, const struct cost_meter *m);
/* "cost": {"known", "share_pct", "bpf_ns", "bpf_runs", "process_cpu_ns", "wall_ns", "cpus",
 * "startup_cpu_ns"} */
void cost_json(struct json *j, const struct cost_meter *m);

#endif
