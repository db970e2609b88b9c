/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A streaming JSON writer: objects and arrays nest, commas and escaping are its business.
 * Keys are given for members of objects and NULL for elements of arrays.
 */
#ifndef STALLKIT_JSON_H
#define STALLKIT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	int depth;
	bool has_items[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_str(struct json *j, const char *key, const char *value); /* NULL: null */
void json_u64(struct json *j, const char *key, uint64_t value);
void json_i64(struct json *j, const char *key, int64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
/* A value already in JSON (text, NUL-terminated) */
void json_raw(struct json *j, const char *key, const char *text);
/* Ends a top-level value with a newline (one document, or one line of JSON lines). */
void json_line_end(struct json *j);

#endif
