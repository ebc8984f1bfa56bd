#include <errno.h>
#include <stddef.h>
#include <sys/random.h>

#include <mbedtls/entropy.h>

/*
 * The only entropy source of the mgmt process and of shrikectl (MBEDTLS_ENTROPY_HARDWARE_ALT in package/mbedtls):
 * the kernel's getrandom(), which needs no file descriptor and blocks only until the kernel pool is first
 * initialised.
 * mbedTLS declares this function; it is not part of Shrike's own naming scheme.
 */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
	size_t done = 0;
	ssize_t n;

	(void)data;
	while (done < len) {
		n = getrandom(output + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
		}
		done += (size_t)n;
	}
	*olen = done;
	return 0;
}
