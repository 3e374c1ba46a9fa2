/*
 * The result of a run as JSON: what mote_result_to_json() returns and
 * what --result FILE holds. The file is replaced atomically: written to a
 * temporary file in the same directory, then renamed over FILE, so a
 * reader sees the whole result or none.
 */
#ifndef MOTE_RESULT_H
#define MOTE_RESULT_H

#include <stddef.h>

#include "vmm/api/mote.h"

/* The JSON text (one line, no newline); malloc'd, NULL on -ENOMEM. */
char *result_json(const struct mote_result *res) __attribute__((warn_unused_result));

/* Write res to path (plus a newline) atomically. 0, or -errno with one
 * line in err; no temporary file is left behind either way. */
int result_write(const char *path, const struct mote_result *res, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
