// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <time.h>
#include "parse.h"
#include "units.h"

size_t text_width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

char *format_duration(char *buf, size_t len, uint64_t ns)
{
	static const struct {
		double scale;
		const char *unit;
	} units[] = { { 1e3, "\xc2\xb5s" }, { 1e6, "ms" }, { 1e9, "s" } };
	double v = ns;
	int i;

	if (ns < 1000) {
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
		return buf;
	}
	for (i = 0; i < 2 && ns >= units[i].scale * 999.5; i++)
		;
	v = ns / units[i].scale;
	if (v < 9.995)
		snprintf(buf, len, "%.2f%s", v, units[i].unit);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%s", v, units[i].unit);
	else
		snprintf(buf, len, "%.0f%s", v, units[i].unit);
	return buf;
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

uint64_t monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}
