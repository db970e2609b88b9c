// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading a capture, whatever the file holds: every length is bounded, every record checked
 * for its type before it is used, every error named with the file and the offset (in the
 * compressed file for gzip's errors, in the uncompressed data for the records').
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "capture.h"

static int fail(char *err, size_t len, const char *name, size_t offset, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, len, "%s: offset %zu: ", name, offset);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* gzip (one member or several) into *data */
static int inflate_all(const char *name, const unsigned char *buf, size_t len, char **data,
		       size_t *data_len, char *err, size_t errlen)
{
	z_stream z = { .next_in = (unsigned char *)buf, .avail_in = len };
	size_t cap = len * 4 + 4096, n = 0;
	char *out = NULL;
	int rc = Z_OK;

	if (len < 2 || buf[0] != 0x1f || buf[1] != 0x8b)
		return fail(err, errlen, name, 0, "not a capture (not gzip-compressed)");
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return fail(err, errlen, name, 0, "out of memory");
	while (rc != Z_STREAM_END || z.avail_in) {
		if (rc == Z_STREAM_END && inflateReset(&z) != Z_OK)
			break;
		if (n == cap || !out) {
			char *p;

			if (cap > CAPTURE_MAX_DATA / 2 && out) {
				inflateEnd(&z);
				free(out);
				return fail(err, errlen, name, len - z.avail_in,
					    "more than %u MiB uncompressed: not a capture this "
					    "version reads", CAPTURE_MAX_DATA >> 20);
			}
			cap = out ? cap * 2 : cap;
			p = realloc(out, cap + 1);
			if (!p) {
				inflateEnd(&z);
				free(out);
				return fail(err, errlen, name, len - z.avail_in, "out of memory");
			}
			out = p;
		}
		z.next_out = (unsigned char *)out + n;
		z.avail_out = cap - n;
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc == Z_BUF_ERROR && !z.avail_in) {
			inflateEnd(&z);
			free(out);
			return fail(err, errlen, name, len, "truncated (the compressed data ends "
				    "too early)");
		}
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			size_t at = len - z.avail_in;

			inflateEnd(&z);
			free(out);
			return fail(err, errlen, name, at, "corrupt compressed data (%s)",
				    z.msg ? z.msg : "zlib error");
		}
	}
	inflateEnd(&z);
	out[n] = '\0';
	*data = out;
	*data_len = n;
	return 0;
}

const char *capture_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int check_meta(const char *name, json_t *rec, char *err, size_t errlen)
{
	const char *format = capture_str(rec, "format");
	const char *version = capture_str(rec, "version");
	unsigned int major, minor;

	if (!format || strcmp(format, CAPTURE_FORMAT))
		return fail(err, errlen, name, 0, "not a stallkit capture (format \"%s\")",
			    format ? format : "missing");
	if (!version || sscanf(version, "%u.%u", &major, &minor) != 2)
		return fail(err, errlen, name, 0, "the capture's version is missing");
	if (major != CAPTURE_VERSION_MAJOR)
		return fail(err, errlen, name, 0, "capture format version %s: this stallreport "
			    "reads version %d.x", version, CAPTURE_VERSION_MAJOR);
	if (!capture_str(rec, "tool"))
		return fail(err, errlen, name, 0, "the capture does not say which tool wrote it");
	return 0;
}

static int append_text(struct capture_data *d, const char *s, size_t len)
{
	char *p = realloc(d->text, d->text_len + len + 1);

	if (!p)
		return -1;
	memcpy(p + d->text_len, s, len);
	d->text = p;
	d->text_len += len;
	p[d->text_len] = '\0';
	return 0;
}

static int append_report(struct capture_data *d, json_t *data, size_t offset)
{
	json_t **p = realloc(d->reports, (d->nreports + 1) * sizeof(*p));
	size_t *o;

	if (!p)
		return -1;
	d->reports = p;
	o = realloc(d->report_offsets, (d->nreports + 1) * sizeof(*o));
	if (!o)
		return -1;
	d->report_offsets = o;
	d->report_offsets[d->nreports] = offset;
	d->reports[d->nreports++] = json_incref(data);
	return 0;
}

/* One record, at offset of the uncompressed data; takes rec */
static int take_record(struct capture_data *d, json_t *rec, size_t offset, char *err,
		       size_t errlen)
{
	const char *section = capture_str(rec, "section");
	json_t *data = json_object_get(rec, "data");
	int ret = 0;

	if (!section)
		ret = fail(err, errlen, d->name, offset, "a record without a section");
	else if (!d->meta && strcmp(section, "meta"))
		ret = fail(err, errlen, d->name, offset, "the capture does not begin with its "
			   "metadata");
	else if (!strcmp(section, "meta")) {
		if (d->meta)
			ret = fail(err, errlen, d->name, offset, "a second metadata record");
		else if (!(ret = check_meta(d->name, rec, err, errlen)))
			d->meta = json_incref(rec);
	} else if (d->end) {
		ret = fail(err, errlen, d->name, offset, "a record after the end record");
	} else if (!strcmp(section, "json")) {
		if (!json_is_object(data))
			ret = fail(err, errlen, d->name, offset, "a report that is not an object");
		else if (append_report(d, data, offset))
			ret = fail(err, errlen, d->name, offset, "out of memory");
	} else if (!strcmp(section, "text")) {
		if (!json_is_string(data))
			ret = fail(err, errlen, d->name, offset, "text that is not a string");
		else if (append_text(d, json_string_value(data), json_string_length(data)))
			ret = fail(err, errlen, d->name, offset, "out of memory");
	} else if (!strcmp(section, "end")) {
		d->end = json_incref(rec);
	} else {
		d->unknown++;
	}
	json_decref(rec);
	return ret;
}

int capture_read_mem(const char *name, const void *buf, size_t len, struct capture_data *d,
		     char *err, size_t errlen)
{
	char *data = NULL;
	size_t data_len = 0, at = 0;

	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	if (!d->name)
		return fail(err, errlen, name, 0, "out of memory");
	if (inflate_all(name, buf, len, &data, &data_len, err, errlen))
		goto fail;
	while (at < data_len) {
		char *nl = memchr(data + at, '\n', data_len - at);
		size_t line_len = (nl ? (size_t)(nl - data) : data_len) - at;
		json_error_t jerr;
		json_t *rec;

		if (!nl) {
			fail(err, errlen, name, data_len, "truncated (the last record has no end)");
			goto fail;
		}
		rec = json_loadb(data + at, line_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!rec) {
			fail(err, errlen, name, at + jerr.position, "%s", jerr.text);
			goto fail;
		}
		if (!json_is_object(rec)) {
			json_decref(rec);
			fail(err, errlen, name, at, "a record that is not an object");
			goto fail;
		}
		if (take_record(d, rec, at, err, errlen))
			goto fail;
		at += line_len + 1;
	}
	if (!d->meta) {
		fail(err, errlen, name, data_len, "empty: no metadata");
		goto fail;
	}
	if (!d->end) {
		fail(err, errlen, name, data_len, "incomplete: the session's end is missing");
		goto fail;
	}
	free(data);
	return 0;
fail:
	free(data);
	capture_data_free(d);
	return -1;
}

int capture_read(const char *path, struct capture_data *d, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	struct stat st;
	size_t n = 0;
	int ret;

	memset(d, 0, sizeof(*d));
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CAPTURE_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ?
			 "larger than a capture can be (256 MiB)" : "not a regular file");
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	while (buf && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, st.st_size - n);

		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (!buf || n != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: %s", path, buf ? "could not read it all" :
			 "out of memory");
		free(buf);
		return -1;
	}
	ret = capture_read_mem(path, buf, n, d, err, errlen);
	free(buf);
	return ret;
}

void capture_data_free(struct capture_data *d)
{
	for (size_t i = 0; i < d->nreports; i++)
		json_decref(d->reports[i]);
	free(d->reports);
	free(d->report_offsets);
	json_decref(d->meta);
	json_decref(d->end);
	free(d->text);
	free(d->name);
	memset(d, 0, sizeof(*d));
}
