# mbedTLS 3.6 LTS: TLS for the management port. Only the static libraries are built.
MBEDTLS_VERSION = 3.6.6
MBEDTLS_DEB_VERSION = 3.6.6-0.1~deb13u1
MBEDTLS_SOURCE_PACKAGE = mbedtls
MBEDTLS_SOURCE = mbedtls_$(MBEDTLS_VERSION).orig.tar.bz2
MBEDTLS_LICENSE = Apache-2.0 OR GPL-2.0-or-later
MBEDTLS_DEPENDENCIES = musl

define MBEDTLS_BUILD_CMDS
	$(Q)$(MAKE) -C $(MBEDTLS_DIR)/library -s -j$(PARALLEL_JOBS) CC=$(TARGET_CC) AR=ar \
		CFLAGS="$(TARGET_CFLAGS) -ffile-prefix-map=$(MBEDTLS_DIR)=mbedtls" static
endef

define MBEDTLS_INSTALL_CMDS
	$(Q)mkdir -p $(SYSROOT)/include $(SYSROOT)/lib
	$(Q)cp -r $(MBEDTLS_DIR)/include/mbedtls $(MBEDTLS_DIR)/include/psa $(SYSROOT)/include/
	$(Q)cp $(MBEDTLS_DIR)/library/libmbedtls.a $(MBEDTLS_DIR)/library/libmbedx509.a \
		$(MBEDTLS_DIR)/library/libmbedcrypto.a $(SYSROOT)/lib/
endef

$(eval $(call shrike-package,mbedtls))
ifeq ($(CONFIG_PACKAGE_MBEDTLS),y)
TARGET_LIBS += mbedtls
endif
