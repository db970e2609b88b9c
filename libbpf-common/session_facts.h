/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Who ran a session, how, on what: the facts a capture's metadata and an audit line share. */
#ifndef STALLKIT_SESSION_FACTS_H
#define STALLKIT_SESSION_FACTS_H

#include <stddef.h>
#include <time.h>
#include "json.h"
#include "options.h"

/* The size of the buffer the functions below read command lines into */
#define FACTS_CMDLINE_MAX (256 << 10)

/* "user" (sudo's caller, else the login user, else the uid), "uid", "sudo_user" */
void facts_user(struct json *j);
/* "argv": the tool's own command line, as typed */
void facts_argv(struct json *j, char *buf);
/* "targets": each -p and -t with its comm and command line; "comm_filter", "cgroup_filter" */
void facts_targets(struct json *j, const struct target_opts *t, char *buf);
/* key: "2026-12-05T03:15:02.123Z" */
void facts_time(struct json *j, const char *key, const struct timespec *ts);
/* "tags": {"key": "value"} from "key=value" strings */
void facts_tags(struct json *j, const char *const *tags, size_t ntags);

#endif
