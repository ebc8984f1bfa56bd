# Linux: one extracted source, three uses: the UAPI headers for the musl sysroot,
# the host kernel (the appliance) and the demo guest kernel.
LINUX_VERSION = 6.12.107
LINUX_DEB_VERSION = 6.12.107-1
LINUX_SOURCE_PACKAGE = linux
LINUX_SOURCE = linux_$(LINUX_VERSION).orig.tar.xz
LINUX_LICENSE = GPL-2.0

LINUX_MAKE = $(MAKE) -C $(LINUX_DIR) ARCH=x86_64 HOSTCC="ccache gcc" CC="ccache gcc"

define LINUX_INSTALL_CMDS
	$(Q)$(LINUX_MAKE) O=$(BUILD_DIR)/linux-headers -s headers_install INSTALL_HDR_PATH=$(SYSROOT)
endef

$(eval $(call shrike-package,linux))

# $(call linux-kernel,VARIANT,FRAGMENTS,GENERATED-FRAGMENT-TEXT,EXTRA-DEPS,IMAGE)
# Configure from tinyconfig plus fragments, refuse the result if a requested symbol did
# not stick, and build bzImage into IMAGE. The kernel .config is only rewritten when its
# content changes and kbuild only runs when an input changed, so a no-op make is fast.
define linux-kernel
LINUX_$(1)_BUILD := $(BUILD_DIR)/linux-$(1)

$$(LINUX_$(1)_BUILD)/.stamp_configured: $(LINUX_DIR)/.stamp_extracted $(2) $(KCONFIG_CONFIG) $(TOPDIR)/package/check-kconfig
	@$(call banner,linux $(LINUX_VERSION) ($(1)) Configuring)
	$(Q)mkdir -p $$(@D)/cfg
	$(Q)printf '%s\n' $(3) > $$(@D)/cfg/shrike.config
	$(Q)$(LINUX_MAKE) O=$$(@D)/cfg -s KCONFIG_CONFIG=.config tinyconfig >/dev/null
	$(Q)cd $$(@D)/cfg && KCONFIG_CONFIG=.config $(LINUX_DIR)/scripts/kconfig/merge_config.sh -m -O . .config $(2) shrike.config >/dev/null
	$(Q)$(LINUX_MAKE) O=$$(@D)/cfg -s KCONFIG_CONFIG=.config olddefconfig
	$(Q)$(TOPDIR)/package/check-kconfig $$(@D)/cfg/.config $(2) $$(@D)/cfg/shrike.config
	$(Q)cmp -s $$(@D)/cfg/.config $$(@D)/.config || cp $$(@D)/cfg/.config $$(@D)/.config
	$(Q)touch $$@

# Remade by the stamp above; its mtime only moves when its content changed.
$$(LINUX_$(1)_BUILD)/.config: $$(LINUX_$(1)_BUILD)/.stamp_configured ;

$(5): $$(LINUX_$(1)_BUILD)/.config $(4)
	@$(call banner,linux $(LINUX_VERSION) ($(1)) Building)
	$(Q)$(LINUX_MAKE) O=$$(LINUX_$(1)_BUILD) -s -j$(PARALLEL_JOBS) bzImage
	$(Q)mkdir -p $$(@D)
	$(Q)cp $$(LINUX_$(1)_BUILD)/arch/x86/boot/bzImage $$@

.PHONY: linux-$(1)
linux-$(1): $(5)
endef

LINUX_HOST_CMDLINE := $(call qstrip,$(CONFIG_BOARD_CONSOLE) $(CONFIG_LINUX_HOST_CMDLINE_EXTRA))
$(eval $(call linux-kernel,host,\
	$(TOPDIR)/kernel-config/host.config $(wildcard $(BOARD_DIR)/linux.config),\
	'CONFIG_CMDLINE="$(LINUX_HOST_CMDLINE)"' 'CONFIG_INITRAMFS_SOURCE="$(IMAGES_DIR)/rootfs.cpio"',\
	$(IMAGES_DIR)/rootfs.cpio,$(IMAGES_DIR)/bzImage))
IMAGES += $(IMAGES_DIR)/bzImage

ifeq ($(CONFIG_LINUX_GUEST),y)
$(eval $(call linux-kernel,guest,$(TOPDIR)/kernel-config/guest.config,,,$(IMAGES_DIR)/guest-bzImage))
IMAGES += $(IMAGES_DIR)/guest-bzImage

# The same kernel as an uncompressed ELF for shrike run's PVH path: no decompression at boot. Symbols are
# stripped (the kernel keeps its own kallsyms); the PVH note stays, it is part of a loaded segment.
$(IMAGES_DIR)/guest-vmlinux: $(IMAGES_DIR)/guest-bzImage
	$(Q)objcopy --strip-all $(LINUX_guest_BUILD)/vmlinux $@
IMAGES += $(IMAGES_DIR)/guest-vmlinux
endif
