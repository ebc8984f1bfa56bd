#ifndef SHRIKE_MGMT_TLSBIO_H
#define SHRIKE_MGMT_TLSBIO_H

#include <mbedtls/ssl.h>

/*
 * The socket under an mbedTLS session, for the management port and shrikectl alike: send and recv on *fd, a
 * signal's EINTR retried, EAGAIN (a non-blocking socket with nothing to do, or a blocking one's SO_RCVTIMEO or
 * SO_SNDTIMEO) as WANT_READ/WANT_WRITE, a reset or a closed pipe as MBEDTLS_ERR_NET_CONN_RESET. fd must outlive
 * the session.
 */
void tlsbio_attach(mbedtls_ssl_context *ssl, int *fd);

#endif
