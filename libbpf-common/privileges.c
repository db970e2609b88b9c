// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "privileges.h"

/* The capabilities stallkit uses, in the order messages name them */
static const struct {
	int cap;
	const char *name;
} known[] = {
	{ CAP_BPF, "CAP_BPF" },
	{ CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	{ CAP_SYSLOG, "CAP_SYSLOG" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
	{ CAP_CHECKPOINT_RESTORE, "CAP_CHECKPOINT_RESTORE" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	{ CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE" },
};

#define KNOWN_COUNT (sizeof(known) / sizeof(known[0]))

static uint64_t kept; /* privileges_keep(): not dropped before privileges_done() */

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &header, data) ? -errno : 0;
}

bool privileges_effective(uint64_t *set)
{
	struct __user_cap_data_struct data[2] = {};

	if (caps_get(data))
		return false;
	*set = (uint64_t)data[1].effective << 32 | data[0].effective;
	return true;
}

bool privileges_have(int cap)
{
	uint64_t set;

	return privileges_effective(&set) && (set & CAP_BIT(cap));
}

const char *privileges_name(int cap)
{
	for (size_t i = 0; i < KNOWN_COUNT; i++)
		if (known[i].cap == cap)
			return known[i].name;
	return "CAP_?";
}

void privileges_list(uint64_t caps, char *buf, size_t len)
{
	int left = __builtin_popcountll(caps);
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < KNOWN_COUNT + 64 && left && used < len; i++) {
		/* the known ones in their order, then any other by number */
		int cap = i < KNOWN_COUNT ? known[i].cap : (int)(i - KNOWN_COUNT);

		if (!(caps & CAP_BIT(cap)))
			continue;
		caps &= ~CAP_BIT(cap);
		left--;
		used += snprintf(buf + used, len - used, "%s%s", privileges_name(cap),
				 !left ? "" : left == 1 ? " and " : ", ");
	}
}

int privileges_missing(uint64_t need, char *buf, size_t len)
{
	uint64_t set = 0;

	privileges_effective(&set);
	privileges_list(need & ~set, buf, len);
	return __builtin_popcountll(need & ~set);
}

static bool running_as_root(void)
{
	return getuid() == 0 && geteuid() == 0;
}

static int give_up(int cap)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	unsigned int word = cap / 32;
	uint32_t bit = 1U << (cap % 32);
	int err;

	/* ambient first: the kernel keeps it only within permitted and inheritable anyway */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0) && errno != EINVAL)
		return -errno;
	err = caps_get(data);
	if (err)
		return err;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	return syscall(SYS_capset, &header, data) ? -errno : 0;
}

int privileges_drop(int cap)
{
	if (running_as_root() || (kept & CAP_BIT(cap)))
		return 0;
	return give_up(cap);
}

void privileges_keep(int cap)
{
	kept |= CAP_BIT(cap);
}

int privileges_done(int cap)
{
	kept &= ~CAP_BIT(cap);
	return privileges_drop(cap);
}
