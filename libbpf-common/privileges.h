/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The capabilities a tool runs with.  Installed, the tracers carry them as file capabilities
 * (packaging/file-caps) and run as the engineer who started them; as root they have them all.
 * docs/privileges.md says why each one is needed.  Capabilities used only at the start
 * (CAP_SYS_ADMIN: BPF_ENABLE_STATS, dnsblock's uprobes) are given up once used.
 */
#ifndef STALLKIT_PRIVILEGES_H
#define STALLKIT_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define CAP_BIT(cap) (1ULL << (cap))

/* The effective capabilities of this process as a bit set (capget, no libcap); false if the
 * kernel would not say. */
bool privileges_effective(uint64_t *set);

/* Whether the effective set holds cap. */
bool privileges_have(int cap);

/* "CAP_BPF", ... for the capabilities stallkit uses; "CAP_?" for others */
const char *privileges_name(int cap);

/* caps named into buf: "CAP_BPF, CAP_PERFMON and CAP_SYSLOG" */
void privileges_list(uint64_t caps, char *buf, size_t len);

/* The capabilities of need that this process lacks, named ("CAP_BPF and CAP_PERFMON") into
 * buf; 0 if none is missing, else how many are. */
int privileges_missing(uint64_t need, char *buf, size_t len);

/*
 * Gives cap up for good: out of the effective, permitted, inheritable and ambient sets, so
 * neither this process nor a program it runs has it again (only a binary with file
 * capabilities could grant it anew).  Root (real and effective uid 0) keeps it, as it keeps
 * everything else; so does a capability privileges_keep() holds.  0, or -errno.
 */
int privileges_drop(int cap);

/*
 * The tool still needs cap after the point where shared code drops it (dnsblock: its uprobes
 * need CAP_SYS_ADMIN until attached, after the session's BPF stats are on): privileges_drop()
 * leaves it until privileges_done(cap), which drops it.
 */
void privileges_keep(int cap);
int privileges_done(int cap);

#endif
