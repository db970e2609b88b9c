/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Captures: what a session saw, kept in a file (-o FILE) so that stallreport can print any of
 * the tool's reports later, on another machine, without the process, its binaries or the
 * kernel.  The format is docs/capture-format.md: gzip-compressed JSON lines, one record a
 * line: the metadata first, then the tool's reports as they were made (each in its text form
 * and its JSON form, stacks already symbolized), then the end of the session.
 *
 * The file is written under a temporary name in the same directory, mode 0600, and renamed
 * into place once complete and on disk: a reader never sees half a capture.  The copy kept in
 * the policy's capture directory is made the same way, readable by the policy's group.
 */
#ifndef STALLKIT_CAPTURE_H
#define STALLKIT_CAPTURE_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "options.h"

#define CAPTURE_FORMAT "stallkit-capture"
#define CAPTURE_VERSION_MAJOR 1
#define CAPTURE_VERSION_MINOR 0

/* -o FILE --tag KEY=VALUE --reason TEXT, and the policy's capture directory */
struct capture_opts {
	const char *path;   /* NULL: no capture */
	const char *reason;
	const char **tags;  /* "key=value" */
	size_t ntags;
	char *kept_path;    /* a copy kept for the policy's capture_dir (NULL: none) */
	gid_t kept_gid;	    /* its group, mode 0640 ((gid_t)-1: its owner's only, 0600) */
};

extern const struct argp capture_argp;

/* Where a tool prints its reports: the text form, the JSON form, or both (each NULL when
 * nobody wants it).  With a capture, both go to it, and the one the user asked for to stdout
 * as well. */
struct report_streams {
	FILE *text;
	FILE *json;
};

struct capture;

/*
 * Starts a capture (NULL path: none, *out is NULL).  The temporary file is made now, so that a
 * directory that cannot be written fails before tracing.  print_json: the user wants JSON on
 * stdout; print_other: the user wants another form (folded stacks), printed by the tool.
 * Returns 0, or -1 with a message.
 */
int capture_begin(struct capture **out, const struct capture_opts *o, const char *tool,
		  const struct target_opts *targets);
/* Where the capture is kept: the policy's copy if there is one, else -o's file (or NULL) */
const char *capture_kept_path(const struct capture_opts *o);
void capture_streams(struct capture *c, bool print_json, bool print_other,
		     struct report_streams *s);
/*
 * Ends the capture: the end of the session noted, the file flushed, synced and renamed into
 * place; on an error (a full disk) the temporary file is removed.  0, or -1 with a message.
 * Frees c (NULL is fine).
 */
int capture_end(struct capture *c, const char *end_reason);
/* Frees a capture that is not ended, and removes its temporary file */
void capture_abort(struct capture *c);
void capture_opts_free(struct capture_opts *o);

/* --- Reading ---------------------------------------------------------------------------- */

struct capture_data {
	char *name;	   /* the file, for messages */
	json_t *meta;	   /* the first record */
	json_t *end;	   /* the "end" record */
	json_t **reports;  /* the JSON form of each report or event, in order */
	size_t *report_offsets; /* where each one's record is, in the uncompressed data */
	size_t nreports;
	char *text;	   /* the text form, as the tool printed it */
	size_t text_len;
	size_t unknown;	   /* records of sections this version does not know */
};

/* Limits that keep a hostile file from taking unbounded memory */
#define CAPTURE_MAX_FILE (256u << 20)	  /* compressed */
#define CAPTURE_MAX_DATA (1024u << 20)	  /* uncompressed */

/*
 * Reads a capture.  On an error returns -1 and err says what, where: "FILE: offset N: ...".
 * Unknown sections are kept out and counted (a newer version's); a newer minor version is
 * read, a different major one refused.
 */
int capture_read(const char *path, struct capture_data *d, char *err, size_t errlen);
int capture_read_mem(const char *name, const void *buf, size_t len, struct capture_data *d,
		     char *err, size_t errlen);
void capture_data_free(struct capture_data *d);

/* The string member key of an object of a capture, or NULL */
const char *capture_str(const json_t *obj, const char *key);

#endif
