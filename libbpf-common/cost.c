// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cost.h"
#include "parse.h"
#include "procfs.h"
#include "units.h"

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

static bool stats_on_already(void)
{
	uint64_t on;

	return !proc_read_u64(STATS_SYSCTL, &on) && on;
}

void cost_enable_stats(struct cost_meter *m)
{
	memset(m, 0, sizeof(*m));
	m->stats_fd = -1;
	if (stats_on_already()) {
		m->bpf_known = true;
		return;
	}
	m->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	m->bpf_known = m->stats_fd >= 0;
	if (!m->bpf_known)
		snprintf(m->why_not, sizeof(m->why_not), "turning BPF stats on %s",
			 m->stats_fd == -EPERM ? "needs CAP_SYS_ADMIN, or kernel.bpf_stats_enabled=1" :
						 strerror(-m->stats_fd));
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sample(const struct cost_meter *m, struct cost_sample *s)
{
	struct bpf_program *prog;

	*s = (struct cost_sample){ .wall_ns = monotonic_ns(), .cpu_ns = process_cpu_ns() };
	if (!m->bpf_known)
		return;
	for (size_t i = 0; i < m->nobjs; i++) {
		bpf_object__for_each_program(prog, m->objs[i]) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(prog);

			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
				s->bpf_ns += info.run_time_ns;
				s->runs += info.run_cnt;
			}
		}
	}
}

void cost_add_object(struct cost_meter *m, struct bpf_object *obj)
{
	if (obj && m->nobjs < COST_MAX_OBJECTS)
		m->objs[m->nobjs++] = obj;
}

void cost_start(struct cost_meter *m, struct bpf_object *obj)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	m->ncpus = cpus > 0 ? cpus : 1;
	cost_add_object(m, obj);
	sample(m, &m->start);
	m->startup_cpu_ns = m->start.cpu_ns;
	m->window = m->start;
}

/* (b - a) as a share of the host's CPU over its wall time, in percent */
static double share(const struct cost_meter *m, uint64_t ns, uint64_t wall_ns)
{
	return wall_ns ? 100.0 * ns / ((double)wall_ns * m->ncpus) : 0;
}

double cost_window(struct cost_meter *m)
{
	struct cost_sample now;
	double pct;

	sample(m, &now);
	pct = share(m, now.bpf_ns - m->window.bpf_ns + now.cpu_ns - m->window.cpu_ns,
		    now.wall_ns - m->window.wall_ns);
	m->window = now;
	return pct;
}

void cost_stop(struct cost_meter *m)
{
	if (m->stats_fd >= 0)
		close(m->stats_fd);
	m->stats_fd = -1;
}

/* Since tracing began */
static void totals(const struct cost_meter *m, struct cost_sample *t)
{
	sample(m, t);
	t->wall_ns -= m->start.wall_ns;
	t->bpf_ns -= m->start.bpf_ns;
	t->runs -= m->start.runs;
	t->cpu_ns -= m->start.cpu_ns;
}

void cost_print(FILE *out, const struct cost_meter *m)
{
	struct cost_sample t;
	char d[16];

	if (!m->ncpus)
		return;
	totals(m, &t);
	fprintf(out, "cost: %.2f%% of %u CPUs while tracing (", share(m, t.bpf_ns + t.cpu_ns, t.wall_ns),
		m->ncpus);
	if (m->bpf_known)
		fprintf(out, "BPF programs %.2f%%, the tool %.2f%%), %.2f \xc2\xb5s per event "
			"(%llu events)", share(m, t.bpf_ns, t.wall_ns), share(m, t.cpu_ns, t.wall_ns),
			t.runs ? (double)t.bpf_ns / t.runs / NSEC_PER_USEC : 0.0,
			(unsigned long long)t.runs);
	else
		fprintf(out, "the tool only: its BPF programs' time is unknown: %s)", m->why_not);
	fprintf(out, "; start-up %s of CPU\n", format_duration(d, sizeof(d), m->startup_cpu_ns));
}

void cost_json(struct json *j, const struct cost_meter *m)
{
	struct cost_sample t;

	if (!m->ncpus)
		return;
	totals(m, &t);
	json_object_begin(j, "cost");
	json_bool(j, "known", m->bpf_known);
	json_double(j, "share_pct", share(m, t.bpf_ns + t.cpu_ns, t.wall_ns));
	json_u64(j, "cpus", m->ncpus);
	json_u64(j, "wall_ns", t.wall_ns);
	if (m->bpf_known) {
		json_u64(j, "bpf_ns", t.bpf_ns);
		json_u64(j, "bpf_runs", t.runs);
	} else {
		json_str(j, "unknown_because", m->why_not);
	}
	json_u64(j, "process_cpu_ns", t.cpu_ns);
	json_u64(j, "startup_cpu_ns", m->startup_cpu_ns);
	json_object_end(j);
}
