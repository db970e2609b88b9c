// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bpf_cost.h"
#include "parse.h"
#include "procfs.h"

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

static bool stats_on_already(void)
{
	uint64_t on;

	return !proc_read_u64(STATS_SYSCTL, &on) && on;
}

void bpf_cost_begin(struct bpf_cost *c)
{
	memset(c, 0, sizeof(*c));
	c->stats_fd = -1;
	if (stats_on_already()) {
		c->known = true;
		return;
	}
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	c->known = c->stats_fd >= 0;
	if (!c->known)
		snprintf(c->why_not, sizeof(c->why_not), "BPF stats could not be turned on (%s)",
			 c->stats_fd == -EPERM ? "it needs CAP_SYS_ADMIN" : strerror(-c->stats_fd));
}

void bpf_cost_add(struct bpf_cost *c, const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (c->known && bpf_program__fd(prog) >= 0 &&
	    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
		c->run_ns += info.run_time_ns;
		c->runs += info.run_cnt;
	}
}

void bpf_cost_end(struct bpf_cost *c)
{
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	c->stats_fd = -1;
}

void bpf_cost_print(FILE *out, const struct bpf_cost *c, uint64_t duration_ns, uint64_t samples)
{
	if (!c->known) {
		fprintf(out, "cost: unknown: %s\n", c->why_not);
		return;
	}
	fprintf(out, "cost: the BPF programs ran %.1f ms in %.1f s (%.3f%% of a CPU), %.2f us a "
		"sample (%llu samples)\n", (double)c->run_ns / NSEC_PER_MSEC,
		(double)duration_ns / NSEC_PER_SEC,
		duration_ns ? 100.0 * c->run_ns / duration_ns : 0.0,
		samples ? (double)c->run_ns / samples / NSEC_PER_USEC : 0.0,
		(unsigned long long)samples);
}

void bpf_cost_json(struct json *j, const struct bpf_cost *c, uint64_t samples)
{
	json_object_begin(j, "cost");
	json_bool(j, "known", c->known);
	if (c->known) {
		json_u64(j, "bpf_ns", c->run_ns);
		json_u64(j, "bpf_runs", c->runs);
	}
	json_u64(j, "samples", samples);
	json_object_end(j);
}
