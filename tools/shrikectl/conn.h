#ifndef SHRIKECTL_CONN_H
#define SHRIKECTL_CONN_H

#include <stddef.h>
#include <sys/types.h>

#include <mbedtls/ssl.h>

#include "opts.h"

#define CONN_BUF 16384

/* One TLS connection to the management port, with the read buffer the HTTP layer parses from. */
struct conn {
	int fd;
	int nonblock;
	int answered;			/* something was read: the server accepted us */
	mbedtls_ssl_context ssl;
	char where[300];		/* host:port, for messages */
	unsigned char buf[CONN_BUF];
	size_t pos, len;		/* unread bytes are buf[pos..len) */
};

/*
 * Loads the CA, the client certificate and key once. Returns 0, or 1 after printing why (a file that does
 * not parse, a key that does not match the certificate).
 */
int conn_setup(const struct opts *o);

/* Connects and completes the TLS handshake, verifying the server. Returns 0, or 1 after printing why. */
int conn_open(struct conn *c, const struct opts *o);

/*
 * Up to len decrypted bytes: > 0, 0 at the end of the stream, -EAGAIN when non-blocking and nothing is there yet,
 * or -EIO after printing why (including a read timeout).
 */
ssize_t conn_read(struct conn *c, void *buf, size_t len);

/* All of buf: 0, or -EIO after printing why. */
int conn_write(struct conn *c, const void *buf, size_t len);

/* Decrypted or received bytes mbedTLS holds that poll() on the socket would not report. */
int conn_pending(const struct conn *c);

/* Reads block for at most the configured timeout, or forever (streams) with on = 0; or do not block at all. */
void conn_read_timeout(struct conn *c, int on);
void conn_set_nonblock(struct conn *c, int on);

void conn_close(struct conn *c);

#endif
