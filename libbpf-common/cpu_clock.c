// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cpu_clock.h"
#include "maps.h"
#include "parse.h"
#include "procfs.h"
#include "units.h"

uint64_t cpu_clock_max_rate(void)
{
	uint64_t rate;

	return proc_read_u64("/proc/sys/kernel/perf_event_max_sample_rate", &rate) ? 0 : rate;
}

static int open_event(uint64_t freq_hz, uint64_t period_ns, int cpu)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.freq = freq_hz > 0,
		.disabled = 1, /* libbpf enables it when the program is attached */
	};

	if (freq_hz)
		attr.sample_freq = freq_hz; /* the kernel takes NSEC_PER_SEC / freq as the period */
	else
		attr.sample_period = period_ns;
	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

bool cpu_clock_available(char *why, size_t len)
{
	int fd = open_event(1, 0, 0);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	snprintf(why, len, "a CPU-clock perf event could not be opened: %s%s", strerror(errno),
		 errno == EACCES || errno == EPERM ?
			 " (it needs CAP_PERFMON, or kernel.perf_event_paranoid <= 0)" : "");
	return false;
}

int cpu_clock_open(struct cpu_clock *c, uint64_t freq_hz, uint64_t period_ns, int cpu)
{
	int opened = 0;

	memset(c, 0, sizeof(*c));
	c->ncpus = possible_cpus();
	c->period_ns = freq_hz ? NSEC_PER_SEC / freq_hz : period_ns;
	c->fds = malloc(c->ncpus * sizeof(*c->fds));
	c->links = calloc(c->ncpus, sizeof(*c->links));
	c->sampled = calloc(c->ncpus, sizeof(*c->sampled));
	if (!c->fds || !c->links || !c->sampled) {
		warnx("out of memory");
		return -1;
	}
	for (int i = 0; i < c->ncpus; i++)
		c->fds[i] = -1;
	for (int i = 0; i < c->ncpus; i++) {
		if (cpu >= 0 && i != cpu)
			continue;
		c->fds[i] = open_event(freq_hz, period_ns, i);
		if (c->fds[i] >= 0) {
			opened++;
		} else if (errno != ENODEV) { /* ENODEV: the CPU is offline */
			warn("opening the CPU clock perf event on CPU %d", i);
			return -1;
		}
	}
	if (!opened) {
		if (cpu >= 0)
			warnx("CPU %d is offline", cpu);
		else
			warnx("no online CPU to sample");
		return -1;
	}
	return 0;
}

int cpu_clock_attach(struct cpu_clock *c, struct bpf_program *prog)
{
	c->started_ns = monotonic_ns();
	for (int i = 0; i < c->ncpus; i++) {
		if (c->fds[i] < 0)
			continue;
		c->links[i] = bpf_program__attach_perf_event(prog, c->fds[i]);
		if (!c->links[i]) {
			warn("attaching the sampling program to CPU %d's clock", i);
			return -1;
		}
		c->sampled[i] = true;
	}
	return 0;
}

void cpu_clock_stop(struct cpu_clock *c)
{
	for (int i = 0; i < c->ncpus; i++)
		if (c->fds[i] >= 0)
			ioctl(c->fds[i], PERF_EVENT_IOC_DISABLE, 0);
	if (!c->stopped_ns)
		c->stopped_ns = monotonic_ns();
	for (int i = 0; i < c->ncpus; i++) {
		if (c->links[i]) {
			bpf_link__destroy(c->links[i]); /* closes the event */
			c->links[i] = NULL;
		} else if (c->fds[i] >= 0) {
			close(c->fds[i]);
		}
		c->fds[i] = -1;
	}
}

uint64_t cpu_clock_expected(const struct cpu_clock *c, int cpu)
{
	if (cpu >= c->ncpus || !c->sampled[cpu] || !c->period_ns || c->stopped_ns < c->started_ns)
		return 0;
	return (c->stopped_ns - c->started_ns) / c->period_ns;
}

void cpu_clock_close(struct cpu_clock *c)
{
	if (c->fds && c->links && c->sampled)
		cpu_clock_stop(c);
	free(c->fds);
	free(c->links);
	free(c->sampled);
	memset(c, 0, sizeof(*c));
}
