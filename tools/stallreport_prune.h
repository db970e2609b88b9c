/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stallreport --prune: the policy's retention of the captures it keeps */
#ifndef STALLKIT_STALLREPORT_PRUNE_H
#define STALLKIT_STALLREPORT_PRUNE_H

/* Removes the captures in the policy's capture_dir last modified longer ago than its retention
 * (and temporary files of sessions that died as old).  Returns the exit status. */
int prune_captures(void);

#endif
