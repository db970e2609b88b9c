/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host's policy for tracing sessions (stallkit-policy(5)): /etc/stallkit/policy.conf, or the
 * file STALLKIT_POLICY names.  Read strictly: anything it does not understand is an error that
 * names the file, the line and the key, never a policy that allows more than it says.
 */
#ifndef STALLKIT_POLICY_H
#define STALLKIT_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define POLICY_PATH	 "/etc/stallkit/policy.conf"
#define POLICY_AUDIT_LOG "/var/log/stallkit/audit.log"

struct policy {
	bool present;		  /* false: no file, no limits */
	char path[256];
	uint64_t max_duration_ns; /* 0: none */
	bool require_reason;
	bool require_target;
	char *audit_log;	  /* always set: the default without a key */
	char *capture_dir;	  /* NULL: none */
	char *capture_group;	  /* NULL: the captures stay 0600 */
	uint64_t retention_ns;	  /* 0: none */
	double max_cpu_pct;	  /* 0: none */
};

/* Reads the policy.  0 (p->present says whether there is one), or -1 with err set to
 * "FILE:LINE: KEY: what is wrong". */
int policy_load(struct policy *p, char *err, size_t errlen);
/* The same, from the file at path (for tests) */
int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen);
void policy_free(struct policy *p);

#endif
