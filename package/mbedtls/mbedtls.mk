# mbedTLS 3.6 LTS: TLS for the management port. Only the static libraries are built.
MBEDTLS_VERSION = 3.6.6
MBEDTLS_DEB_VERSION = 3.6.6-0.1~deb13u1
MBEDTLS_SOURCE_PACKAGE = mbedtls
MBEDTLS_SOURCE = mbedtls_$(MBEDTLS_VERSION).orig.tar.bz2
MBEDTLS_LICENSE = Apache-2.0 OR GPL-2.0-or-later
MBEDTLS_DEPENDENCIES = musl

# Shrike's configuration (what is compiled out and why) is shrike_mbedtls_config.h, read as the user config file.
# The library's Makefile does not track headers or flags, hence the clean before each build. One section per
# function, so that the shrike link (--gc-sections) keeps only what the management port calls.
MBEDTLS_CONFIG_H = $(MBEDTLS_PKGDIR)/shrike_mbedtls_config.h

define MBEDTLS_BUILD_CMDS
	$(Q)$(MAKE) -C $(MBEDTLS_DIR)/library -s clean
	$(Q)cp $(MBEDTLS_CONFIG_H) $(MBEDTLS_DIR)/include/mbedtls/shrike_mbedtls_config.h
	$(Q)$(MAKE) -C $(MBEDTLS_DIR)/library -s -j$(PARALLEL_JOBS) CC=$(TARGET_CC) AR=ar \
		CFLAGS="$(TARGET_CFLAGS) -ffile-prefix-map=$(MBEDTLS_DIR)=mbedtls -ffunction-sections -fdata-sections \
		'-DMBEDTLS_USER_CONFIG_FILE=\"mbedtls/shrike_mbedtls_config.h\"'" static
endef

define MBEDTLS_INSTALL_CMDS
	$(Q)mkdir -p $(SYSROOT)/include $(SYSROOT)/lib
	$(Q)rm -rf $(SYSROOT)/include/mbedtls $(SYSROOT)/include/psa
	$(Q)cp -r $(MBEDTLS_DIR)/include/mbedtls $(MBEDTLS_DIR)/include/psa $(SYSROOT)/include/
	@# Programs built against the sysroot must see the configuration the library was built with (it changes
	@# structure layouts), without each of them having to pass MBEDTLS_USER_CONFIG_FILE.
	$(Q)printf '\n#include "mbedtls/shrike_mbedtls_config.h"\n' >> $(SYSROOT)/include/mbedtls/mbedtls_config.h
	$(Q)cp $(MBEDTLS_DIR)/library/libmbedtls.a $(MBEDTLS_DIR)/library/libmbedx509.a \
		$(MBEDTLS_DIR)/library/libmbedcrypto.a $(SYSROOT)/lib/
endef

$(eval $(call shrike-package,mbedtls))
# The stamps do not know about the configuration: a change to it or to this file rebuilds the library.
$(MBEDTLS_DIR)/.stamp_built: $(MBEDTLS_CONFIG_H) $(MBEDTLS_PKGDIR)/mbedtls.mk
ifeq ($(CONFIG_PACKAGE_MBEDTLS),y)
TARGET_LIBS += mbedtls
endif
