// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench-floor: attach the empty sys_enter / sys_exit pair of floor.bpf.c, say so on stderr
 * (with the program IDs, for reading their BPF stats), and hold it until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static int prog_id(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return -1;
	return (int)info.id;
}

int main(void)
{
	struct floor_bpf *skel;
	sigset_t set;
	int sig;

	/* Blocked before anything is attached: the signal ends the wait below, nothing else */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	skel = floor_bpf__open_and_load();
	if (!skel) {
		perror("bench-floor: loading the BPF object");
		return 1;
	}
	if (floor_bpf__attach(skel)) {
		perror("bench-floor: attaching");
		floor_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "Floor attached: sys_enter prog id %d, sys_exit prog id %d\n",
		prog_id(skel->progs.floor_enter), prog_id(skel->progs.floor_exit));
	sigwait(&set, &sig);
	floor_bpf__destroy(skel);
	return 0;
}
