// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/random.h>
#include "audit.h"

static void new_id(char *id)
{
	unsigned char raw[16];

	if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != sizeof(raw))
		memset(raw, 0, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(id + 2 * i, "%02x", raw[i]);
}

int audit_open(struct audit *a, const char *path, bool required, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->required = required;
	snprintf(a->path, sizeof(a->path), "%s", path);
	new_id(a->id);
	openlog("stallkit", LOG_PID, LOG_AUTHPRIV);
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (a->fd >= 0)
		return 0;
	if (required) {
		snprintf(err, errlen, "the audit log %s cannot be written: %s", path,
			 strerror(errno));
		return -1;
	}
	if (errno != ENOENT)
		warnx("the audit log %s cannot be written: %s", path, strerror(errno));
	return 0;
}

int audit_write(struct audit *a, const char *line, char *err, size_t errlen)
{
	size_t len = strlen(line);
	char *whole = malloc(len + 2);
	ssize_t n = -1;
	int saved;

	syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line);
	if (a->fd < 0) {
		free(whole);
		return 0;
	}
	if (whole) {
		memcpy(whole, line, len);
		whole[len] = '\n';
		n = write(a->fd, whole, len + 1);
		free(whole);
	}
	saved = n < 0 ? errno : EIO;
	if (n == (ssize_t)len + 1 && !fsync(a->fd))
		return 0;
	if (n == (ssize_t)len + 1)
		saved = errno;
	if (!a->required) {
		warnx("writing the audit log %s: %s", a->path, strerror(saved));
		return 0;
	}
	snprintf(err, errlen, "writing the audit log %s: %s", a->path, strerror(saved));
	return -1;
}

void audit_close(struct audit *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
