/* The kernel command line built from a config. */
#include "vmm/config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\v' || ch == '\f';
}

/* The start of the first token at or after s, and its length. */
static const char *next_token(const char *s, size_t *len)
{
	while (is_blank(*s))
		s++;
	*len = 0;
	while (s[*len] && !is_blank(s[*len]))
		(*len)++;
	return s;
}

/* The "--" token that hands the rest to init, or the end of the line. */
static const char *find_init_args(const char *s)
{
	size_t len;

	for (s = next_token(s, &len); len; s = next_token(s + len, &len))
		if (len == 2 && s[0] == '-' && s[1] == '-')
			return s;
	return s;
}

/* Does the kernel's part of the line (before end) have a parameter that
 * starts with name ("console=") or equals it ("rw")? */
static bool has_param(const char *s, const char *end, const char *name)
{
	size_t n = strlen(name), len;
	bool prefix = name[n - 1] == '=';

	for (s = next_token(s, &len); s < end && len; s = next_token(s + len, &len))
		if (len >= n && memcmp(s, name, n) == 0 && (prefix || len == n))
			return true;
	return false;
}

/* The line the user gave, or the default. */
static const char *given_cmdline(const struct vm_config *c)
{
	return c->cmdline ? c->cmdline : CONFIG_DEFAULT_CMDLINE;
}

static const struct drive_config *root_drive(const struct vm_config *c)
{
	return c->ndrives && c->drives[0].root ? &c->drives[0] : NULL;
}

static void put_root(FILE *f, const struct vm_config *c, const char *base,
		     const char *end)
{
	const struct drive_config *d = root_drive(c);

	if (!d || has_param(base, end, "root="))
		return;
	if (d->partuuid)
		fprintf(f, " root=PARTUUID=%s", d->partuuid);
	else
		fputs(" root=/dev/vda", f);
	if (!has_param(base, end, "ro") && !has_param(base, end, "rw"))
		fputs(d->read_only ? " ro" : " rw", f);
}

/* Length of s without trailing blanks. */
static int trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n && is_blank(s[n - 1]))
		n--;
	return (int)n;
}

/* Whatever followed the line's own "--" token, then the job's arguments. */
static void put_init_args(FILE *f, const struct vm_config *c, const char *init)
{
	const char *rest = *init ? init + 2 : init;

	while (is_blank(*rest))
		rest++;
	if (!*rest && !(c->job_argv && c->job_argv[0]))
		return;
	fputs(" --", f);
	if (*rest)
		fprintf(f, " %.*s", trimmed_len(rest), rest);
	/* Linux's parser keeps a double-quoted word whole and strips the quotes,
	 * so a job argument with blanks reaches init as one argument. */
	for (char **a = c->job_argv; a && *a; a++)
		fprintf(f, strpbrk(*a, " \t") ? " \"%s\"" : " %s", *a);
}

bool config_has_job(const struct vm_config *c)
{
	const char *init = find_init_args(given_cmdline(c));
	size_t len;

	if (c->job_argv && c->job_argv[0])
		return true;
	if (!*init)
		return false;
	next_token(init + 2, &len);
	return len > 0;
}

char *config_kernel_cmdline_with(const struct vm_config *c, const char *extra)
{
	const char *base = given_cmdline(c);
	const char *init = find_init_args(base), *end = init;
	char *out = NULL;
	size_t size;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	while (is_blank(*base))
		base++;
	while (end > base && is_blank(end[-1]))
		end--;
	fprintf(f, "%.*s", (int)(end - base), base);
	if (!has_param(base, end, "console="))
		fputs(end > base ? " console=ttyS0" : "console=ttyS0", f);
	put_root(f, c, base, end);
	if (extra && *extra)
		fprintf(f, " %s", extra);
	put_init_args(f, c, init);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

bool config_cmdline_has(const struct vm_config *c, const char *name)
{
	const char *base = given_cmdline(c);

	return has_param(base, find_init_args(base), name);
}

char *config_kernel_cmdline(const struct vm_config *c)
{
	return config_kernel_cmdline_with(c, NULL);
}
