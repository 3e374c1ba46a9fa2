/*
 * A minimal HTTP/1.1 client over the daemon's Unix socket, for the few
 * requests the client verbs make: one request per connection
 * (Connection: close), the whole answer read into memory.
 */
#ifndef MOTE_SCHED_HTTP_H
#define MOTE_SCHED_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_resp {
	int code;                      /* 200, 404, ... */
	char *body;                    /* NUL-terminated (for JSON), len bytes */
	size_t len;
	uint64_t next_offset;          /* X-Mote-Offset */
	bool ended;                    /* X-Mote-Ended: 1 */
};

/* 0 with *r filled (free it with http_resp_free), or -errno with one line
 * in err ("cannot reach the scheduler at PATH: ..."). body may be NULL. */
int http_request(const char *sock, const char *method, const char *path, const char *body,
		 struct http_resp *r, char *err, size_t errlen);
void http_resp_free(struct http_resp *r);

#endif
