#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <mbedtls/net_sockets.h>

#include "mgmt/tlsbio.h"

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n;

	do
		n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(*(int *)ctx, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

void tlsbio_attach(mbedtls_ssl_context *ssl, int *fd)
{
	mbedtls_ssl_set_bio(ssl, fd, bio_send, bio_recv, NULL);
}
