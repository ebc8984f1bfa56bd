/*
 * Load generator for tests/bench/mgmt: CLIENTS threads, each with its own TLS connection (OpenSSL, admin client
 * certificate), sending GET PATH and timing each answer.
 *
 *   mgmt_load CERTDIR PORT CLIENTS REQUESTS [PATH]   keep-alive: REQUESTS per connection
 *   mgmt_load CERTDIR PORT CLIENTS -SECONDS [PATH]   a full handshake per request, for SECONDS
 *
 * Prints "errors N requests N seconds S rps R p50 MS p99 MS". A C client, so that on a 2-core machine the numbers
 * say more about the server than about the client's interpreter.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx;
static int port, requests, seconds;
static const char *path = "/v1/guests";
static pthread_barrier_t barrier;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t nlat;
static long errors;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static SSL *open_tls(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, one = 1;
	SSL *ssl;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

static void close_tls(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_free(ssl);
	close(fd);
}

/* One request and its answer; 0 if the answer was a 200 with the whole body. */
static int request(SSL *ssl, int close_conn)
{
	char buf[65536], req[256];
	int n, len = 0, head = -1, clen = -1;
	char *p;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: shrike\r\n%s\r\n", path,
		     close_conn ? "Connection: close\r\n" : "");
	if (SSL_write(ssl, req, n) != n)
		return -1;
	for (;;) {
		n = SSL_read(ssl, buf + len, (int)sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += n;
		buf[len] = '\0';
		if (head < 0 && (p = strstr(buf, "\r\n\r\n"))) {
			head = (int)(p - buf) + 4;
			p = strcasestr(buf, "\r\nContent-Length:");
			if (!p)
				return -1;
			clen = atoi(p + 17);
		}
		if (head >= 0 && len >= head + clen)
			return strncmp(buf, "HTTP/1.1 200", 12) ? -1 : 0;
		if (len == (int)sizeof(buf) - 1)
			return -1;
	}
}

static void *worker(void *arg)
{
	double *mine = calloc((size_t)(requests > 0 ? requests : 100000), sizeof(double)), t, end;
	size_t n = 0, cap = (size_t)(requests > 0 ? requests : 100000);
	long errs = 0;
	SSL *ssl = NULL;
	int i;

	(void)arg;
	if (requests > 0) {
		ssl = open_tls();
		pthread_barrier_wait(&barrier);
		for (i = 0; i < requests; i++) {
			t = now();
			if (!ssl || request(ssl, 0)) {
				errs++;
				continue;
			}
			mine[n++] = now() - t;
		}
		if (ssl)
			close_tls(ssl);
	} else {
		pthread_barrier_wait(&barrier);
		end = now() + seconds;
		while (now() < end && n < cap) {
			t = now();
			ssl = open_tls();
			if (!ssl || request(ssl, 1)) {
				errs++;
				if (ssl)
					close_tls(ssl);
				continue;
			}
			close_tls(ssl);
			mine[n++] = now() - t;
		}
	}
	pthread_mutex_lock(&lock);
	memcpy(lat + nlat, mine, n * sizeof(double));
	nlat += n;
	errors += errs;
	pthread_mutex_unlock(&lock);
	free(mine);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char file[4096], key[4096];
	pthread_t *th;
	int clients, i;
	double t0, secs;

	if (argc < 5) {
		fprintf(stderr, "usage: mgmt_load CERTDIR PORT CLIENTS REQUESTS|-SECONDS [PATH]\n");
		return 2;
	}
	port = atoi(argv[2]);
	clients = atoi(argv[3]);
	requests = atoi(argv[4]);
	if (requests < 0)
		seconds = -requests;
	if (argc > 5)
		path = argv[5];
	ctx = SSL_CTX_new(TLS_client_method());
	snprintf(file, sizeof(file), "%s/ca.crt", argv[1]);
	SSL_CTX_load_verify_locations(ctx, file, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	snprintf(file, sizeof(file), "%s/admin.crt", argv[1]);
	snprintf(key, sizeof(key), "%s/admin.key", argv[1]);
	if (SSL_CTX_use_certificate_file(ctx, file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	lat = calloc((size_t)clients * (size_t)(requests > 0 ? requests : 100000), sizeof(double));
	th = calloc((size_t)clients, sizeof(*th));
	pthread_barrier_init(&barrier, NULL, (unsigned)clients + 1);
	for (i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	pthread_barrier_wait(&barrier);
	t0 = now();
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	secs = now() - t0;
	qsort(lat, nlat, sizeof(double), cmp);
	printf("errors %ld requests %zu seconds %.2f rps %.0f p50 %.2f p99 %.2f\n", errors, nlat, secs,
	       (double)nlat / secs, nlat ? lat[nlat / 2] * 1000 : 0.0,
	       nlat ? lat[(size_t)((double)(nlat - 1) * 0.99)] * 1000 : 0.0);
	return 0;
}
