# lwIP 2.2: the TCP/IP stack behind user-mode guest networking. lwIP has no library
# build of its own; its core, IPv4, IPv6 and Ethernet sources are compiled into
# liblwip.a against the project's port headers in package/lwip/port (NO_SYS mode).
LWIP_VERSION = 2.2.1
LWIP_DEB_VERSION = 2.2.1+dfsg1-1+deb13u1
LWIP_SOURCE_PACKAGE = lwip
LWIP_SOURCE = lwip_$(LWIP_VERSION)+dfsg1.orig.tar.xz
LWIP_LICENSE = BSD-3-Clause
LWIP_DEPENDENCIES = musl

# Shell globs, expanded at build time once the source is extracted.
LWIP_SRCS = ../src/core/*.c ../src/core/ipv4/*.c ../src/core/ipv6/*.c ../src/netif/ethernet.c

define LWIP_BUILD_CMDS
	$(Q)mkdir -p $(LWIP_DIR)/obj
	$(Q)cd $(LWIP_DIR)/obj && $(TARGET_CC) $(TARGET_CFLAGS) -ffile-prefix-map=$(LWIP_DIR)=lwip \
		-I$(TOPDIR)/package/lwip/port -I$(LWIP_DIR)/src/include -c $(LWIP_SRCS)
	$(Q)rm -f $(LWIP_DIR)/liblwip.a && ar rcsD $(LWIP_DIR)/liblwip.a $(LWIP_DIR)/obj/*.o
endef

define LWIP_INSTALL_CMDS
	$(Q)mkdir -p $(SYSROOT)/include/lwip-port $(SYSROOT)/lib
	$(Q)cp -r $(LWIP_DIR)/src/include/lwip $(LWIP_DIR)/src/include/netif $(SYSROOT)/include/
	$(Q)cp -r $(TOPDIR)/package/lwip/port/. $(SYSROOT)/include/lwip-port/
	$(Q)cp $(LWIP_DIR)/liblwip.a $(SYSROOT)/lib/
endef

$(eval $(call shrike-package,lwip))
$(LWIP_DIR)/.stamp_built: $(wildcard $(TOPDIR)/package/lwip/port/*.h $(TOPDIR)/package/lwip/port/arch/*.h)
ifeq ($(CONFIG_PACKAGE_LWIP),y)
TARGET_LIBS += lwip
endif
