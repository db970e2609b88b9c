/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The audit log: one JSON line per event of a session, appended whole with one write(2) to a
 * file opened with O_APPEND, synced to disk, and sent to syslog (authpriv) for the journal.
 */
#ifndef STALLKIT_AUDIT_H
#define STALLKIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

struct audit {
	int fd;	       /* -1: no file (none wanted, or not there without a policy) */
	bool required; /* a policy is in force: a line that cannot be written refuses the session */
	char path[256];
	char id[33];   /* the session's ID, in each of its lines */
};

/*
 * Opens the log (created 0640).  required: failing is an error (-1, err set); otherwise a log
 * whose directory does not exist is quietly not written, and other failures are warnings.
 */
int audit_open(struct audit *a, const char *path, bool required, char *err, size_t errlen);
/* One line, without its newline: 0, or -1 with err set (only when required) */
int audit_write(struct audit *a, const char *line, char *err, size_t errlen);
void audit_close(struct audit *a);

#endif
