/*
 * The client side of the daemon's HTTP: a request written in one go, the
 * answer read to EOF (the daemon closes the connection after it).
 */
#include "vmm/sched/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Logs come in 1 MiB pieces, job lists are small: 64 MiB is plenty. */
#define RESP_MAX (64u << 20)

static int connect_to(const char *sock, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(sock) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "cannot reach the scheduler at %s: path too long", sock);
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	e = errno;
	snprintf(err, errlen, "cannot reach the scheduler at %s: %s", sock, strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *b;
	ssize_t r;

	while (buf) {
		if (n == cap) {
			cap *= 2;
			b = cap <= RESP_MAX ? realloc(buf, cap + 1) : NULL;
			if (!b)
				break;
			buf = b;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				break;
			buf[n] = '\0';
			*out = buf;
			*len = n;
			return 0;
		}
		n += (size_t)r;
	}
	free(buf);
	return -EIO;
}

/* The value of header name in the header block, or NULL. */
static const char *header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
			return p + 3 + n + strspn(p + 3 + n, " ");
	return NULL;
}

static int parse(char *raw, size_t len, struct http_resp *r)
{
	char *end = strstr(raw, "\r\n\r\n");
	const char *v;
	size_t body;

	if (!end || sscanf(raw, "HTTP/1.%*d %d", &r->code) != 1)
		return -EPROTO;
	*end = '\0';
	body = (size_t)(end + 4 - raw);
	if ((v = header(raw, "Content-Length")) && strtoull(v, NULL, 10) < len - body)
		len = body + strtoull(v, NULL, 10);
	if ((v = header(raw, "X-Mote-Offset")))
		r->next_offset = strtoull(v, NULL, 10);
	r->ended = (v = header(raw, "X-Mote-Ended")) && *v == '1';
	r->len = len - body;
	memmove(raw, raw + body, r->len);
	raw[r->len] = '\0';
	r->body = raw;
	return 0;
}

int http_request(const char *sock, const char *method, const char *path, const char *body,
		 struct http_resp *r, char *err, size_t errlen)
{
	size_t blen = body ? strlen(body) : 0, len;
	char *head = NULL, *raw = NULL;
	int fd = connect_to(sock, err, errlen), ret;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return fd;
	ret = asprintf(&head, "%s %s HTTP/1.1\r\nHost: mote\r\nConnection: close\r\n"
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		       method, path, blen) < 0 ? -ENOMEM : 0;
	if (!ret)
		ret = write_all(fd, head, strlen(head));
	if (!ret && blen)
		ret = write_all(fd, body, blen);
	if (!ret)
		ret = read_all(fd, &raw, &len);
	if (!ret && (ret = parse(raw, len, r)) != 0)
		free(raw);
	if (ret)
		snprintf(err, errlen, "the scheduler at %s did not answer (%s)", sock,
			 strerror(-ret));
	free(head);
	close(fd);
	return ret;
}

void http_resp_free(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
}
