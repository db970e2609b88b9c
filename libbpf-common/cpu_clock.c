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
#include "units.h"

#define ONLINE_CPUS "/sys/devices/system/cpu/online"

uint64_t cpu_clock_max_rate(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	unsigned long long rate = 0;

	if (f) {
		if (fscanf(f, "%llu", &rate) != 1)
			rate = 0;
		fclose(f);
	}
	return rate;
}

/* The online CPUs, as the kernel lists them ("0-3,6"): a mask of possible_cpus() entries */
static bool *online_cpus(char *text, size_t len)
{
	int ncpus = possible_cpus();
	bool *online = calloc(ncpus > 0 ? ncpus : 1, sizeof(*online));
	FILE *f = fopen(ONLINE_CPUS, "re");
	char *p;

	text[0] = '\0';
	if (!online || !f || !fgets(text, len, f)) {
		if (f)
			fclose(f);
		return online; /* none known online: every open fails with its reason */
	}
	fclose(f);
	text[strcspn(text, "\n")] = '\0';
	for (p = text; *p;) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (long c = lo; c <= hi && c < ncpus; c++)
			if (c >= 0)
				online[c] = true;
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
	return online;
}

bool cpu_clock_cpu_usable(int cpu)
{
	char list[256];
	bool *online = online_cpus(list, sizeof(list));
	bool usable = online && cpu < possible_cpus() && online[cpu];

	if (!usable)
		warnx("no CPU %d online: this machine's online CPUs are %s", cpu,
		      list[0] ? list : "unknown");
	free(online);
	return usable;
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
	char list[256];
	bool *online;
	int opened = 0;

	memset(c, 0, sizeof(*c));
	c->ncpus = possible_cpus();
	c->period_ns = freq_hz ? NSEC_PER_SEC / freq_hz : period_ns;
	c->fds = malloc(c->ncpus * sizeof(*c->fds));
	c->links = calloc(c->ncpus, sizeof(*c->links));
	c->sampled = calloc(c->ncpus, sizeof(*c->sampled));
	online = online_cpus(list, sizeof(list));
	if (!c->fds || !c->links || !c->sampled || !online) {
		free(online);
		warnx("out of memory");
		return -1;
	}
	for (int i = 0; i < c->ncpus; i++)
		c->fds[i] = -1;
	for (int i = 0; i < c->ncpus; i++) {
		if (!online[i] || (cpu >= 0 && i != cpu))
			continue;
		c->fds[i] = open_event(freq_hz, period_ns, i);
		if (c->fds[i] < 0) {
			warn("opening the CPU clock perf event on CPU %d", i);
			free(online);
			return -1;
		}
		opened++;
	}
	free(online);
	if (!opened) {
		warnx("no online CPU to sample (online: %s)", list[0] ? list : "unknown");
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
