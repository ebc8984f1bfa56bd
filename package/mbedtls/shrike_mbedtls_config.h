/*
 * Shrike's changes to the mbedTLS 3.6 default configuration, applied as MBEDTLS_USER_CONFIG_FILE (after
 * mbedtls_config.h, before mbedTLS derives its internal settings). The library and every program built against the
 * sysroot see the same file: mbedtls.mk installs it and makes the installed mbedtls_config.h include it, because
 * several options change the layout of public structures such as mbedtls_ssl_context.
 *
 * The only TLS user is the management port (vmm/mgmt): a server that requires a client certificate, speaks TLS 1.2
 * and 1.3, and offers ECDHE with AES-GCM or ChaCha20-Poly1305. Everything it does not need is compiled out, so it
 * cannot be switched on by mistake at run time either.
 */
#ifndef SHRIKE_MBEDTLS_CONFIG_H
#define SHRIKE_MBEDTLS_CONFIG_H

/* Renegotiation lets a client restart the handshake inside a session: a CPU-exhaustion lever and the source of
 * past CVEs (triple handshake). Nothing needs it: a client that wants new keys opens a new connection. */
#undef MBEDTLS_SSL_RENEGOTIATION

/* Session tickets (TLS 1.2 RFC 5077 and TLS 1.3 NewSessionTicket) would need a ticket key kept and rotated in the
 * mgmt process, and a resumed session skips the client certificate check we base roles on. Off. */
#undef MBEDTLS_SSL_SESSION_TICKETS

/* TLS 1.3 resumption and external PSKs go with the tickets: only the (EC)DHE certificate handshake remains. */
#undef MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
#undef MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED

/* TLS 1.2 key exchanges without forward secrecy or with pre-shared keys: only ECDHE_ECDSA and ECDHE_RSA stay (RSA
 * for operators who bring an RSA server key from their own PKI). */
#undef MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED

/* TLS 1.2 and 1.3 stay (the defaults; anything older is gone from 3.6). Middlebox compatibility mode for 1.3 stays
 * too: it costs a dummy ChangeCipherSpec and keeps 1.3 working through corporate proxies and old load balancers. */

/* The management port is TCP: no DTLS, and no saving of live sessions to memory. */
#undef MBEDTLS_SSL_PROTO_DTLS
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_CONNECTION_ID
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_CONTEXT_SERIALIZATION

/* Ciphers and key exchanges no remaining suite uses: compiled out to keep them out of the firmware (and out of any
 * future negotiation by mistake). */
#undef MBEDTLS_DES_C
#undef MBEDTLS_ARIA_C
#undef MBEDTLS_CAMELLIA_C
#undef MBEDTLS_DHM_C
#undef MBEDTLS_SSL_DTLS_SRTP

/* mbedTLS reads getrandom() only when built against glibc; against musl it would fall back to opening
 * /dev/urandom, which the sandboxed mgmt process may not have. The mgmt code provides mbedtls_hardware_poll()
 * on top of getrandom() (vmm/mgmt/entropy.c) and that is the only, strong, source. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT

/* Certificate validity needs the time; the mgmt code installs a clock that never goes below the build date
 * (mbedtls_platform_set_time(), see docs/security.md), because a board without a set RTC boots in 1970. */
#define MBEDTLS_PLATFORM_TIME_ALT

#endif
