/* Diagnostics to stderr. No state: callers decide whether to log. */
#ifndef MOTE_LOG_H
#define MOTE_LOG_H

/* One line to stderr, prefixed "mote: ". */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a "mote: debug: " prefix; callers check their debug flag. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
