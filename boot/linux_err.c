/*
 * The boot code's error lines (boot/linux_err.h): apart from any loader,
 * so that each architecture's boot code shares them without the others'.
 */
#include <stdarg.h>
#include <stdio.h>

#include "boot/linux_err.h"
#include "vmm/base/log.h"

int linux_verrf(char *err, size_t errlen, int ret, const char *fmt, va_list ap)
{
	char line[LOG_STR_MAX];

	if (!err || !errlen)
		return ret;
	vsnprintf(line, sizeof(line), fmt, ap);
	snprintf(err, errlen, "%s", log_str(line).s);
	return ret;
}

int linux_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	linux_verrf(err, errlen, ret, fmt, ap);
	va_end(ap);
	return ret;
}
