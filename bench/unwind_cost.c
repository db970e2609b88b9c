// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench-unwind-cost none|fp|unwind TID: puts one program of bench/unwind_cost.bpf.c on
 * sched_switch (tp_btf) for the blocks of thread TID, prints "ready PROG_ID" once it is attached
 * (and, for unwind, once TID's process has its tables), and on SIGINT or SIGTERM prints one JSON
 * line: the stacks taken and failed, and the depth and end of each distinct stack it stored.
 * bench/unwind-cost drives it and reads the program's run time from the kernel's BPF stats.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "unwind_cost.skel.h"
#include "stacks.h"
#include "unwind.h"
#include "unwinder.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static void sum_counts(struct unwind_cost_bpf *skel, __u64 out[2])
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpus, sizeof(*v));

	for (__u32 key = 0; v && key < 2; key++) {
		out[key] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.counts), &key, v))
			continue;
		for (int i = 0; i < ncpus; i++)
			out[key] += v[i];
	}
	free(v);
}

/* "depth/end" of every distinct stack in the map: end is "root" (complete), the unwinder's
 * stop mark, or "fp" (a frame-pointer walk says nothing of why it ended) */
static void print_stacks(int fd, size_t key_size)
{
	__u64 key = 0, next, ips[STACK_MAX_DEPTH] = {};
	void *prev = NULL;
	const char *sep = "";

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		int n = 0;

		memcpy(&key, &next, key_size);
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, ips))
			continue;
		while (n < STACK_MAX_DEPTH && ips[n])
			n++;
		if (key_size == sizeof(__u32))
			printf("%s\"%d/fp\"", sep, n);
		else if (n && UNWIND_IS_MARK(ips[n - 1]))
			printf("%s\"%d/stop%u\"", sep, n - 1, UNWIND_MARK_STOP(ips[n - 1]));
		else
			printf("%s\"%d/root\"", sep, n);
		sep = ",";
	}
}

int main(int argc, char **argv)
{
	struct target_opts targets = {};
	struct unwind_cost_bpf *skel;
	struct bpf_program *prog;
	struct unwinder *unw = NULL;
	struct ring_buffer *rb = NULL;
	pid_t tid = argc == 3 ? atoi(argv[2]) : 0;
	const char *mode = argc == 3 ? argv[1] : "";
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	__u64 counts[2] = {};
	char name[16];
	int ret = 1;

	if (tid <= 0 || (strcmp(mode, "none") && strcmp(mode, "fp") && strcmp(mode, "unwind"))) {
		fprintf(stderr, "usage: bench-unwind-cost none|fp|unwind TID\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = unwind_cost_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->target_tid = tid;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog) + 5, mode));
	if (unwinder_size(&UNWINDER_MAPS(skel), strcmp(mode, "unwind") ? 1 : 0) ||
	    unwind_cost_bpf__load(skel))
		goto out;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb)
		goto out;
	/* the tables are built for the unwinder's program alone */
	if (!strcmp(mode, "unwind"))
		targets.pids = (struct id_list){ .ids = &tid, .len = 1 };
	unw = unwinder_new(&UNWINDER_MAPS(skel), rb, &targets, &(struct runtime_opts){ 0 });
	if (!unw)
		goto out;
	snprintf(name, sizeof(name), "cost_%s", mode);
	prog = bpf_object__find_program_by_name(skel->obj, name);
	if (!prog || !bpf_program__attach(prog) ||
	    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		goto out;
	printf("ready %u\n", info.id);
	fflush(stdout);
	while (!stop) {
		int err = ring_buffer__poll(rb, 100);

		if (err < 0 && err != -EINTR)
			break;
		unwinder_tick(unw);
	}
	sum_counts(skel, counts);
	printf("{\"taken\": %llu, \"failed\": %llu, \"stacks\": [", counts[0], counts[1]);
	if (!strcmp(mode, "fp"))
		print_stacks(bpf_map__fd(skel->maps.fp_stacks), sizeof(__u32));
	else if (!strcmp(mode, "unwind"))
		print_stacks(bpf_map__fd(skel->maps.stacks), sizeof(__u64));
	printf("]}\n");
	unwinder_print_stats(unw);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench-unwind-cost: setting up the %s program failed: %s\n", mode,
			strerror(errno));
	unwinder_free(unw);
	ring_buffer__free(rb);
	unwind_cost_bpf__destroy(skel);
	return ret;
}
