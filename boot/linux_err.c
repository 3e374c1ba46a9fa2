/*
 * The boot code's error lines (linux_fail, linux_errf in linux_priv.h):
 * apart from the x86 loader in linux.c, which boot/arm64/ shares, so that
 * an arm64 build needs none of the x86 boot code.
 */
#include <stdarg.h>
#include <stdio.h>

#include "boot/linux_priv.h"
#include "vmm/base/log.h"

/* The messages name the kernel's and initrd's paths, the user's strings:
 * the line is escaped so that it stays one line. */
static void vfail(char *err, size_t errlen, const char *fmt, va_list ap)
{
	char line[LOG_STR_MAX];

	if (!err || !errlen)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	snprintf(err, errlen, "%s", log_str(line).s);
}

int linux_fail(struct linux_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int linux_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}
