/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A CPU-clock perf event on each CPU (a software event: it works in VMs without a PMU), with a
 * BPF program attached, that runs every period of time the CPU spends, whatever runs on it.
 */
#ifndef STALLKIT_CPU_CLOCK_H
#define STALLKIT_CPU_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

#define CPU_CLOCK_MIN_PERIOD_NS 10000 /* the kernel's hrtimer fires no more often */

struct cpu_clock {
	int ncpus;	  /* possible CPUs */
	int *fds;	  /* by CPU, -1 where none is open (offline, or not chosen with -C) */
	struct bpf_link **links; /* a link owns its event's descriptor */
	bool *sampled;		 /* by CPU: whether an event was attached there */
	uint64_t period_ns;
	uint64_t started_ns, stopped_ns; /* CLOCK_MONOTONIC */
};

/* The kernel's highest sample rate a second (perf_event_max_sample_rate), 0 if unknown */
uint64_t cpu_clock_max_rate(void);
/* Whether a CPU-clock event can be opened here (privileges, perf_event_paranoid, a kernel
 * with perf events); if not, why, in words */
bool cpu_clock_available(char *why, size_t len);
/* Opens the events (freq_hz: that rate, else every period_ns) on every online CPU, or on cpu
 * (>= 0) only; -1 with a message on failure (cpu offline, say) */
int cpu_clock_open(struct cpu_clock *c, uint64_t freq_hz, uint64_t period_ns, int cpu);
int cpu_clock_attach(struct cpu_clock *c, struct bpf_program *prog);
void cpu_clock_stop(struct cpu_clock *c);
/*
 * How many samples cpu was due for while its clock was attached.  Fewer are taken when the
 * timer fires late by more than a period (interrupts off, a virtual CPU not running: the kernel
 * skips the periods missed) or the kernel throttles the event: on a CPU idle without a tick,
 * past kernel.perf_event_max_sample_rate / HZ samples.
 */
uint64_t cpu_clock_expected(const struct cpu_clock *c, int cpu);
void cpu_clock_close(struct cpu_clock *c);

#endif
