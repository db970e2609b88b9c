/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where dnsblock's programs attach: uprobes on the resolver functions of every C library that
 * the traced processes map (a container's own libc too, reached through /proc/PID/map_files),
 * and of the host's libc for processes that start later; and the DNS message programs on the
 * cgroup v2 root, which sees the sockets of every network namespace.
 */
#ifndef STALLKIT_DNSBLOCK_PROBES_H
#define STALLKIT_DNSBLOCK_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include "options.h"

struct dns_probes {
	struct bpf_link **links;
	size_t nlinks, cap;
	size_t libraries; /* C libraries with resolver probes */
	bool wire;	  /* the message programs are attached */
};

/* 0, or -1 with the reason printed (no C library could be probed: uprobes do not work) */
int resolver_probes_attach(struct dns_probes *p, struct bpf_program *enter,
			   struct bpf_program *exit, const struct target_opts *targets,
			   bool verbose);
/* 0, or -1 with the reason printed */
int wire_probes_attach(struct dns_probes *p, struct bpf_program *egress,
		       struct bpf_program *ingress, bool verbose);
void dns_probes_detach(struct dns_probes *p);

#endif
