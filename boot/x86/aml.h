/*
 * A tiny AML byte-code emitter (ACPI spec, "ACPI Machine Language"), just
 * enough for mote's DSDT: scopes, devices, names, integers, strings,
 * packages and buffers. It writes into a caller-owned buffer; the first
 * error (no room, bad name, unbalanced open/close) sticks and is reported
 * by aml_finish(), so emitting code need not check every call.
 */
#ifndef MOTE_BOOT_AML_H
#define MOTE_BOOT_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t len, cap;
	size_t open[AML_MAX_DEPTH];  /* where each open package's body starts */
	unsigned depth;
	int err;                     /* first error, sticky */
};

/* Start emitting into buf (cap bytes). */
void aml_init(struct aml *a, void *buf, size_t cap);
/* Raw bytes (opcodes, resource templates). */
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameString: optional leading '\', then 4-character segments joined by '.'. */
void aml_namestring(struct aml *a, const char *path);
/* The smallest integer encoding of v (ZeroOp, OneOp, Byte..QWordConst). */
void aml_integer(struct aml *a, uint64_t v);
/* A String object. */
void aml_string(struct aml *a, const char *s);
/* EisaId("PNP0501"): the compressed 32-bit id as an integer. */
void aml_eisaid(struct aml *a, const char *id);
/* Name(path, ...): the caller emits the value next. */
void aml_name(struct aml *a, const char *path);
/* Name(path, Buffer(){bytes}). */
void aml_name_buffer(struct aml *a, const char *path, const void *bytes, size_t n);
/* Scope(path) { ... }, Device(path) { ... }, Package(n) { ... }: close each with aml_close(). */
void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_package(struct aml *a, uint8_t nelems);
/* End the innermost open scope/device/package, filling in its PkgLength. */
void aml_close(struct aml *a);
/* Bytes emitted, or -errno: -ENOSPC (no room), -EINVAL (bad name, unclosed). */
long aml_finish(struct aml *a) __attribute__((warn_unused_result));

/* Decode a PkgLength at p (avail bytes). Returns its byte count, or 0 if bad. */
unsigned aml_pkglen_decode(const uint8_t *p, size_t avail, uint32_t *value);

#endif
