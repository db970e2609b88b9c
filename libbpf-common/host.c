// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include "host.h"

#define TRACEFS_MAGIC 0x74726163

bool capabilities_effective(uint64_t *set)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = {};

	if (syscall(SYS_capget, &header, caps))
		return false;
	*set = (uint64_t)caps[1].effective << 32 | caps[0].effective;
	return true;
}

const char *tracefs_mount_point(void)
{
	static const char *const places[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	struct statfs st;

	for (unsigned int i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (statfs(places[i], &st) == 0 && st.f_type == TRACEFS_MAGIC)
			return places[i];
	return NULL;
}
