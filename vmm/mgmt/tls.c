#include <errno.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "lib/log.h"
#include "mgmt/tls.h"
#include "mgmt/tlsbio.h"

/* The build date as a lower bound for the clock; vmm/Makefile passes SOURCE_DATE_EPOCH. */
#ifndef SHRIKE_BUILD_EPOCH
#define SHRIKE_BUILD_EPOCH 0
#endif

static mbedtls_ssl_config conf;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt own_chain, client_ca;
static mbedtls_pk_context own_key;

/*
 * ECDHE only (forward secrecy), AEAD only (no CBC padding oracles), strongest first; the server's order wins.
 * ECDSA and RSA variants both, so an operator's RSA server key works too.
 */
static const int ciphersuites[] = {
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	0
};

time_t tls_now(void)
{
	time_t now = time(NULL);

	/* A board whose RTC lost its battery boots in 1970 (or 2000): every certificate would be "not yet valid",
	 * and the port unusable until someone fixes the clock through... the port. The build date is a safe floor:
	 * no certificate this firmware accepts was issued for a time before the firmware existed. */
	if (now < (time_t)SHRIKE_BUILD_EPOCH)
		now = (time_t)SHRIKE_BUILD_EPOCH;
	return now;
}

static mbedtls_time_t tls_time(mbedtls_time_t *t)
{
	mbedtls_time_t now = (mbedtls_time_t)tls_now();

	if (t)
		*t = now;
	return now;
}

/*
 * mbedTLS checks the EKU only when the extension is present (RFC 5280: absent means any use). The API is for
 * client certificates made for it, so a leaf without clientAuth, or without an EKU at all, is refused here.
 */
static int verify_leaf(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	(void)ctx;
	if (depth)
		return 0;
	if (!mbedtls_x509_crt_has_ext_type(crt, MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) ||
	    mbedtls_x509_crt_check_extended_key_usage(crt, MBEDTLS_OID_CLIENT_AUTH,
						      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)))
		*flags |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
	return 0;
}

static int mbed_err(const char *what, const char *path, int rc)
{
	char msg[128];

	mbedtls_strerror(rc, msg, sizeof(msg));
	log_error("%s%s%s: %s", what, path ? " " : "", path ? path : "", msg);
	return -EINVAL;
}

int tls_init(const char *cert, const char *key, const char *ca)
{
	static const char pers[] = "shrike mgmt";
	psa_status_t st;
	int rc;

	/* TLS 1.3 in mbedTLS 3.6 runs its key schedule through PSA: without this every 1.3 handshake fails */
	st = psa_crypto_init();
	if (st != PSA_SUCCESS) {
		log_error("psa_crypto_init failed (%d)", (int)st);
		return -EIO;
	}
	mbedtls_platform_set_time(tls_time);
	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_x509_crt_init(&own_chain);
	mbedtls_x509_crt_init(&client_ca);
	mbedtls_pk_init(&own_key);

	rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)pers, sizeof(pers));
	if (rc)
		return mbed_err("seeding the DRBG from getrandom()", NULL, rc);
	rc = mbedtls_x509_crt_parse_file(&own_chain, cert);
	if (rc)
		return mbed_err("server certificate", cert, rc);
	rc = mbedtls_pk_parse_keyfile(&own_key, key, NULL, mbedtls_ctr_drbg_random, &drbg);
	if (rc)
		return mbed_err("server key", key, rc);
	rc = mbedtls_x509_crt_parse_file(&client_ca, ca);
	if (rc)
		return mbed_err("client CA", ca, rc);

	rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc)
		return mbed_err("TLS defaults", NULL, rc);
	mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_ciphersuites(&conf, ciphersuites);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &client_ca, NULL);
	mbedtls_ssl_conf_verify(&conf, verify_leaf, NULL);
	rc = mbedtls_ssl_conf_own_cert(&conf, &own_chain, &own_key);
	if (rc)
		return mbed_err("server certificate and key", cert, rc);
	if (mbedtls_pk_check_pair(&own_chain.pk, &own_key, mbedtls_ctr_drbg_random, &drbg)) {
		log_error("%s does not belong to the certificate %s", key, cert);
		return -EINVAL;
	}
	return 0;
}

int tls_session_setup(mbedtls_ssl_context *ssl, int *fd)
{
	int rc = mbedtls_ssl_setup(ssl, &conf);

	if (rc)
		return rc == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EIO;
	tlsbio_attach(ssl, fd);
	return 0;
}

int tls_fail_reason(const mbedtls_ssl_context *ssl, int err)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(ssl);

	if (err == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION)
		return TLS_FAIL_PROTOCOL_VERSION;
	if (err == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE ||
	    (flags != (uint32_t)-1 && flags & MBEDTLS_X509_BADCERT_MISSING))
		return TLS_FAIL_NO_CERT;
	if (flags != (uint32_t)-1 && flags) {
		if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
			return TLS_FAIL_UNKNOWN_CA;
		if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
			return TLS_FAIL_EXPIRED;
		if (flags & (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE | MBEDTLS_X509_BADCERT_KEY_USAGE))
			return TLS_FAIL_BAD_EKU;
	}
	if (err == MBEDTLS_ERR_SSL_CONN_EOF || err == MBEDTLS_ERR_NET_CONN_RESET || err == MBEDTLS_ERR_NET_RECV_FAILED)
		return TLS_FAIL_CLOSED;
	return TLS_FAIL_OTHER;
}

const char *tls_fail_name(int reason)
{
	static const char *const names[TLS_FAIL_COUNT] = {
		"no_cert", "unknown_ca", "expired", "bad_eku", "protocol_version", "timeout", "closed", "other",
	};

	return reason >= 0 && reason < TLS_FAIL_COUNT ? names[reason] : "other";
}

static int attr(const mbedtls_x509_name *n, const char *oid, size_t oid_len, char *out, size_t size)
{
	int found = 0;

	for (; n; n = n->next) {
		if (n->oid.len != oid_len || memcmp(n->oid.p, oid, oid_len))
			continue;
		/* two O= attributes would make the role depend on which one we read: refuse */
		if (found++ || n->val.len >= size || memchr(n->val.p, 0, n->val.len))
			return -EINVAL;
		memcpy(out, n->val.p, n->val.len);
		out[n->val.len] = '\0';
	}
	return found ? 0 : -ENOENT;
}

int tls_peer_role(const mbedtls_ssl_context *ssl, char *cn, size_t cn_size)
{
	const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(ssl);
	char org[32];

	if (cn && cn_size) {
		cn[0] = '\0';
		if (crt && attr(&crt->subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), cn, cn_size))
			cn[0] = '\0';
	}
	if (!crt || attr(&crt->subject, MBEDTLS_OID_AT_ORGANIZATION, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION),
			 org, sizeof(org)))
		return TLS_ROLE_NONE;
	if (!strcmp(org, "admin"))
		return TLS_ROLE_ADMIN;
	if (!strcmp(org, "reader"))
		return TLS_ROLE_READER;
	return TLS_ROLE_NONE;
}
