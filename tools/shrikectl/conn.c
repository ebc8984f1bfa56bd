#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "conn.h"
#include "mgmt/tlsbio.h"

static mbedtls_ssl_config conf;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt ca, own_cert;
static mbedtls_pk_context own_key;
static int timeout_s;

/* The entropy source the project's mbedTLS configuration leaves to the program is vmm/mgmt/entropy.c. */

/* The same configuration has MBEDTLS_PLATFORM_TIME_ALT, whose default clock says 1970: certificate dates need
 * the real one. */
static mbedtls_time_t wall_time(mbedtls_time_t *t)
{
	mbedtls_time_t now = (mbedtls_time_t)time(NULL);

	if (t)
		*t = now;
	return now;
}

static void tls_error(const char *where, const char *what, int rc)
{
	char msg[160];

	mbedtls_strerror(rc, msg, sizeof(msg));
	fprintf(stderr, "shrikectl: %s: %s: %s\n", where, what, msg);
}

int conn_setup(const struct opts *o)
{
	static const char pers[] = "shrikectl";
	const char *keyfile = o->key[0] ? o->key : o->cert;
	int rc;

	timeout_s = o->timeout_s;
	if (psa_crypto_init() != PSA_SUCCESS) {	/* TLS 1.3 runs its key schedule through PSA */
		fprintf(stderr, "shrikectl: psa_crypto_init failed\n");
		return 1;
	}
	mbedtls_platform_set_time(wall_time);
	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crt_init(&own_cert);
	mbedtls_pk_init(&own_key);

	rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)pers, sizeof(pers));
	if (rc) {
		tls_error("getrandom", "seeding the random generator", rc);
		return 1;
	}
	rc = mbedtls_x509_crt_parse_file(&ca, o->ca);
	if (rc) {
		tls_error(o->ca, "CA certificate", rc);
		return 1;
	}
	rc = mbedtls_x509_crt_parse_file(&own_cert, o->cert);
	if (rc) {
		tls_error(o->cert, "client certificate", rc);
		return 1;
	}
	rc = mbedtls_pk_parse_keyfile(&own_key, keyfile, NULL, mbedtls_ctr_drbg_random, &drbg);
	if (rc) {
		tls_error(keyfile, o->key[0] ? "client key" : "client key (give --key if it is not in --cert)", rc);
		return 1;
	}
	if (mbedtls_pk_check_pair(&own_cert.pk, &own_key, mbedtls_ctr_drbg_random, &drbg)) {
		fprintf(stderr, "shrikectl: %s: the key does not belong to the certificate %s\n", keyfile, o->cert);
		return 1;
	}
	rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (!rc)
		rc = mbedtls_ssl_conf_own_cert(&conf, &own_cert, &own_key);
	if (rc) {
		tls_error("TLS", "configuration", rc);
		return 1;
	}
	mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	return 0;
}

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A non-blocking connect bounded by the timeout; the socket is blocking again afterwards. */
static int tcp_connect(const struct addrinfo *ai, int *err)
{
	struct pollfd p;
	socklen_t len = sizeof(*err);
	int fd, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		*err = errno;
		goto fail;
	}
	p.fd = fd;
	p.events = POLLOUT;
	do
		rc = poll(&p, 1, timeout_s * 1000);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		*err = ETIMEDOUT;
		goto fail;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) || *err)
		goto fail;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	set_timeouts(fd, timeout_s);
	return fd;
fail:
	close(fd);
	return -1;
}

static void handshake_error(struct conn *c, int rc)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
	char info[512], *nl;

	if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != (uint32_t)-1 && flags) {
		mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		while ((nl = strchr(info, '\n')) && nl[1])
			*nl = ';';
		if (nl)
			*nl = '\0';
		fprintf(stderr, "shrikectl: %s: the server certificate is not accepted: %s%s\n", c->where, info,
			flags & MBEDTLS_X509_BADCERT_CN_MISMATCH ?
			" (it is not made out for this host name or address: see --server-name)" : "");
	} else if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		fprintf(stderr, "shrikectl: %s: TLS handshake: no answer within %d s\n", c->where, timeout_s);
	} else if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		fprintf(stderr, "shrikectl: %s: TLS handshake: the server refused it (is the client certificate signed "
			"by the appliance's client CA, valid today, and made for clientAuth?)\n", c->where);
	} else {
		tls_error(c->where, "TLS handshake", rc);
	}
}

int conn_open(struct conn *c, const struct opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res, *ai;
	int rc, err = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	opts_where(o, c->where, sizeof(c->where));
	rc = getaddrinfo(o->host, o->port, &hints, &res);
	if (rc) {
		fprintf(stderr, "shrikectl: %s: %s\n", c->where, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return 1;
	}
	for (ai = res; ai && c->fd < 0; ai = ai->ai_next)
		c->fd = tcp_connect(ai, &err);
	freeaddrinfo(res);
	if (c->fd < 0) {
		fprintf(stderr, "shrikectl: cannot connect to %s: %s\n", c->where,
			err == ETIMEDOUT ? "no answer (timed out)" : strerror(err));
		return 1;
	}

	mbedtls_ssl_init(&c->ssl);
	rc = mbedtls_ssl_setup(&c->ssl, &conf);
	/* an IP address is checked against the certificate's IP SANs, a name against its DNS SANs */
	if (!rc)
		rc = mbedtls_ssl_set_hostname(&c->ssl, o->server_name[0] ? o->server_name : o->host);
	if (rc) {
		tls_error(c->where, "TLS setup", rc);
		goto fail;
	}
	tlsbio_attach(&c->ssl, &c->fd);
	rc = mbedtls_ssl_handshake(&c->ssl);
	if (rc) {
		handshake_error(c, rc);
		goto fail;
	}
	return 0;
fail:
	mbedtls_ssl_free(&c->ssl);
	close(c->fd);
	c->fd = -1;
	return 1;
}

ssize_t conn_read(struct conn *c, void *buf, size_t len)
{
	int rc;

	for (;;) {
		rc = mbedtls_ssl_read(&c->ssl, buf, len);
		if (rc > 0) {
			c->answered = 1;
			return rc;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (c->nonblock)
				return -EAGAIN;
			fprintf(stderr, "shrikectl: %s: no answer within %d s\n", c->where, timeout_s);
			return -EIO;
		}
		break;
	}
	/*
	 * In TLS 1.3 the client's handshake is over before the server has checked the client certificate: a refusal
	 * arrives as the first thing read, an alert mbedTLS cannot decrypt (MAC failure), or a plain close.
	 */
	if (!c->answered) {
		fprintf(stderr, "shrikectl: %s: the server dropped the connection after the TLS handshake: it did not "
			"accept the client certificate (is it signed by the appliance's client CA, valid today, and made "
			"for clientAuth?)\n", c->where);
		return -EIO;
	}
	if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	if (rc == MBEDTLS_ERR_NET_CONN_RESET)
		fprintf(stderr, "shrikectl: %s: the server closed the connection\n", c->where);
	else
		tls_error(c->where, "reading", rc);
	return -EIO;
}

int conn_write(struct conn *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int rc;

	while (len) {
		rc = mbedtls_ssl_write(&c->ssl, p, len);
		if (rc > 0) {
			p += rc;
			len -= (size_t)rc;
			continue;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_WRITE && !c->nonblock) {
			fprintf(stderr, "shrikectl: %s: the server takes nothing more (timed out after %d s)\n", c->where,
				timeout_s);
			return -EIO;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) {
			struct pollfd pfd = { .fd = c->fd, .events = rc == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT };

			poll(&pfd, 1, timeout_s * 1000);
			continue;
		}
		if (rc == MBEDTLS_ERR_NET_CONN_RESET)
			fprintf(stderr, "shrikectl: %s: the server closed the connection\n", c->where);
		else
			tls_error(c->where, "writing", rc);
		return -EIO;
	}
	return 0;
}

int conn_pending(const struct conn *c)
{
	return c->pos < c->len || mbedtls_ssl_get_bytes_avail(&c->ssl) || mbedtls_ssl_check_pending(&c->ssl);
}

void conn_read_timeout(struct conn *c, int on)
{
	set_timeouts(c->fd, on ? timeout_s : 0);
}

void conn_set_nonblock(struct conn *c, int on)
{
	int fl = fcntl(c->fd, F_GETFL);

	fcntl(c->fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
	c->nonblock = on;
}

void conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	mbedtls_ssl_close_notify(&c->ssl);
	mbedtls_ssl_free(&c->ssl);
	close(c->fd);
	c->fd = -1;
}
