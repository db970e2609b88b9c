/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Human units for time: 812ns, 3.42µs, 50.1ms, 2.00s. */
#ifndef STALLKIT_UNITS_H
#define STALLKIT_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Three significant digits; returns buf. */
char *format_duration(char *buf, size_t len, uint64_t ns);

/* Columns a UTF-8 string takes on a terminal (continuation bytes take none): "1.2µs" is 5. */
size_t text_width(const char *s);

/* CLOCK_MONOTONIC in ns (the clock of bpf_ktime_get_ns) */
uint64_t monotonic_ns(void);
/* The CPU time the calling thread has used, in ns */
uint64_t thread_cpu_ns(void);

#endif
