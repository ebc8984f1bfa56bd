#ifndef SHRIKE_MGMT_TLS_H
#define SHRIKE_MGMT_TLS_H

#include <stddef.h>
#include <time.h>

#include <mbedtls/ssl.h>

/*
 * The management port's TLS setup: one mbedTLS server configuration for the process (TLS 1.2 and 1.3, a fixed
 * ECDHE + AEAD cipher list, client certificate required and checked against the client CA, clientAuth EKU required),
 * and the pieces the server loop needs per connection: session setup, why a handshake failed, and the role the
 * verified client certificate grants.
 */

enum tls_role {
	TLS_ROLE_NONE,			/* verified, but its O= is neither admin nor reader: every request gets 403 */
	TLS_ROLE_READER,
	TLS_ROLE_ADMIN,
};

enum tls_fail {
	TLS_FAIL_NO_CERT,
	TLS_FAIL_UNKNOWN_CA,
	TLS_FAIL_EXPIRED,
	TLS_FAIL_BAD_EKU,
	TLS_FAIL_PROTOCOL_VERSION,
	TLS_FAIL_TIMEOUT,
	TLS_FAIL_CLOSED,		/* the client went away mid-handshake (port scans, health checks) */
	TLS_FAIL_OTHER,
	TLS_FAIL_COUNT
};

/* Loads the server certificate chain, its key and the client CA; seeds the DRBG from getrandom(). */
int tls_init(const char *cert, const char *key, const char *client_ca);

/* Prepares ssl (already mbedtls_ssl_init()ed) for a connection on *fd; fd must outlive the session. */
int tls_session_setup(mbedtls_ssl_context *ssl, int *fd);

/* Why a handshake that returned err failed (enum tls_fail), and its metrics label ("no_cert"). */
int tls_fail_reason(const mbedtls_ssl_context *ssl, int err);
const char *tls_fail_name(int reason);

/* The role of the verified peer, and its subject CN for logs (cn may be NULL). */
int tls_peer_role(const mbedtls_ssl_context *ssl, char *cn, size_t cn_size);

/* The clock certificates are checked against: the system clock, but never before the build date. */
time_t tls_now(void);

#endif
