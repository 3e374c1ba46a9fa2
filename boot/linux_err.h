/*
 * The boot code's error lines, shared by every architecture's loader:
 * one line into the caller's buffer, escaped (log_str) because the
 * messages carry the user's paths and strings, and the error returned.
 */
#ifndef MOTE_BOOT_LINUX_ERR_H
#define MOTE_BOOT_LINUX_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Write "<fmt...>" into err[0..errlen) and return ret (a -errno); err may
 * be NULL. */
int linux_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with a va_list, for wrappers such as x86's linux_fail. */
int linux_verrf(char *err, size_t errlen, int ret, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#endif
