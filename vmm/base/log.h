/* Diagnostics to stderr. No state: callers decide whether to log. */
#ifndef MOTE_LOG_H
#define MOTE_LOG_H

/* One line to stderr, prefixed "mote: ". */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a "mote: debug: " prefix; callers check their debug flag. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Longest log_str() text, NUL included; longer ones end in "...". */
#define LOG_STR_MAX 512

struct log_str {
	char s[LOG_STR_MAX];
};

/*
 * s as an error line may show it: every string a user or a guest chose
 * (a path, a key name, a flag's value) goes through this before it is
 * printed, so that a newline or a terminal escape in it cannot break the
 * one-line contract or forge a line. Control characters, DEL, C1 controls
 * and bytes that are not UTF-8 become \n, \r, \t or \xNN; a backslash
 * becomes \\; other UTF-8 passes unchanged. NULL shows as "(null)".
 * Returned by value so that it can sit in an argument list:
 * log_err("%s: ...", log_str(path).s); the text lives until the end of
 * that full expression.
 */
struct log_str log_str(const char *s);

#endif
