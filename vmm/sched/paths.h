/*
 * Where the scheduler lives: its socket and its state directory, shared by
 * the daemon and the client verbs; and the small parsers both use.
 */
#ifndef MOTE_SCHED_PATHS_H
#define MOTE_SCHED_PATHS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The longest path an AF_UNIX socket address holds (sun_path). */
#define SCHED_SOCKET_MAX 108

/* $XDG_RUNTIME_DIR/mote/serve.sock; else /run/mote/serve.sock for root;
 * else /tmp/mote-$UID/serve.sock. 0 or -ENAMETOOLONG. */
int sched_default_socket(char *buf, size_t len);
/* The client's choice: flag, else $MOTE_SOCKET, else the default. */
int sched_client_socket(const char *flag, char *buf, size_t len);
/* $XDG_STATE_HOME/mote/serve, else ~/.local/state/mote/serve; for root
 * /var/lib/mote/serve. */
int sched_default_state(char *buf, size_t len);

/* mkdir -p; the directories it creates get mode. 0 or -errno. */
int sched_mkdirs(const char *path, mode_t mode);
/* The socket's directory: created 0700 if missing; refused (-EPERM, why
 * in err) when it is not a directory of ours that only we can write,
 * since another user could otherwise swap the socket under us. */
int sched_socket_dir(const char *sock, char *err, size_t errlen);

/* "512", "512M", "2G", "1T", "1024K": MiB (a bare number is MiB, as for
 * mote run --mem). 0 or -EINVAL. */
int sched_parse_mib(const char *s, uint64_t *mib);
/* A whole number in [min, max]. 0 or -EINVAL. */
int sched_parse_long(const char *s, long min, long max, long *out);

/* Wall-clock and monotonic milliseconds. */
int64_t sched_wall_ms(void);
int64_t sched_mono_ms(void);

#endif
