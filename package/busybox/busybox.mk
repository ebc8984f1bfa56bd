# busybox: the rescue and utility set of the appliance and the userland of the demo guest.
# The applet list is initramfs/busybox.config, applied on top of allnoconfig.
BUSYBOX_VERSION = 1.37.0
BUSYBOX_DEB_VERSION = 1:1.37.0-6
BUSYBOX_SOURCE_PACKAGE = busybox
BUSYBOX_SOURCE = busybox_$(BUSYBOX_VERSION).orig.tar.bz2
BUSYBOX_LICENSE = GPL-2.0
BUSYBOX_DEPENDENCIES = musl
BUSYBOX_CONFIG = $(TOPDIR)/initramfs/busybox.config
BUSYBOX_MAKE = $(MAKE) -C $(BUSYBOX_DIR) -s HOSTCC=gcc CC=$(TARGET_CC) KCONFIG_NOTIMESTAMP=1

# busybox's kconfig ignores KCONFIG_ALLCONFIG on its second allnoconfig pass, so the
# fragment replaces the symbols it names and oldconfig gives sub-options their defaults.
define BUSYBOX_CONFIGURE_CMDS
	$(Q)$(BUSYBOX_MAKE) allnoconfig >/dev/null
	$(Q)sed -E 's/^# (CONFIG_[A-Z0-9_]+) is not set$$/\1/; s/=.*//' $(BUSYBOX_CONFIG) | grep ^CONFIG_ > $(BUSYBOX_DIR)/.fragment-syms
	$(Q)grep -v -w -F -f $(BUSYBOX_DIR)/.fragment-syms $(BUSYBOX_DIR)/.config > $(BUSYBOX_DIR)/.config.base
	$(Q)cat $(BUSYBOX_DIR)/.config.base $(BUSYBOX_CONFIG) > $(BUSYBOX_DIR)/.config
	$(Q)yes "" | $(BUSYBOX_MAKE) oldconfig >/dev/null
	$(Q)$(TOPDIR)/package/check-kconfig $(BUSYBOX_DIR)/.config $(BUSYBOX_CONFIG)
endef

define BUSYBOX_BUILD_CMDS
	$(Q)$(BUSYBOX_MAKE) -j$(PARALLEL_JOBS) EXTRA_CFLAGS="-ffile-prefix-map=$(BUSYBOX_DIR)=busybox" busybox
endef

define BUSYBOX_INSTALL_CMDS
	$(Q)install -D -m 0755 $(BUSYBOX_DIR)/busybox $(TARGET_DIR)/bin/busybox
endef

$(eval $(call shrike-package,busybox))
$(BUSYBOX_DIR)/.stamp_configured: $(BUSYBOX_CONFIG)
