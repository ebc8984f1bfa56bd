# The appliance's initramfs (rootfs.cpio, embedded in bzImage; rootfs.cpio.gz for boot
# loaders) and the demo guest's initrd. Archives are written by the kernel's own
# gen_init_cpio from a file list: entries in a fixed order, owned by root, every mtime
# SOURCE_DATE_EPOCH, device nodes without needing root, so two builds are byte-identical.
GEN_INIT_CPIO := $(HOST_DIR)/bin/gen_init_cpio
BUSYBOX_BIN := $(TARGET_DIR)/bin/busybox
MKLIST := $(TOPDIR)/initramfs/mklist

$(GEN_INIT_CPIO): $(LINUX_DIR)/.stamp_extracted
	$(Q)mkdir -p $(@D)
	$(Q)gcc -O2 -o $@ $(LINUX_DIR)/usr/gen_init_cpio.c

ROOTFS_CPIO := $(IMAGES_DIR)/rootfs.cpio

# Without CONFIG_PACKAGE_BUSYBOX the appliance has no rescue shell at all.
ROOTFS_BUSYBOX_DEP := $(if $(filter y,$(CONFIG_PACKAGE_BUSYBOX)),$(BUSYBOX_DIR)/.stamp_installed)
ROOTFS_BUSYBOX_ARG := $(if $(filter y,$(CONFIG_PACKAGE_BUSYBOX)),--busybox $(BUSYBOX_BIN))
ROOTFS_SKELETON := $(shell find $(TOPDIR)/initramfs/skeleton 2>/dev/null)
$(BUILD_DIR)/rootfs/.stamp_assembled: $(GEN_INIT_CPIO) $(MKLIST) $(SHRIKE_BIN) $(ROOTFS_BUSYBOX_DEP) $(ROOTFS_SKELETON) $(KCONFIG_CONFIG)
	@$(call banner,rootfs Assembling initramfs)
	$(Q)mkdir -p $(IMAGES_DIR) $(BUILD_DIR)/rootfs
	$(Q)$(MKLIST) --skeleton $(TOPDIR)/initramfs/skeleton $(ROOTFS_BUSYBOX_ARG) \
		--file /bin/shrike=$(SHRIKE_BIN) --link /init=/bin/shrike > $(BUILD_DIR)/rootfs/files.list
	$(Q)$(GEN_INIT_CPIO) -t $(SOURCE_DATE_EPOCH) $(BUILD_DIR)/rootfs/files.list > $(ROOTFS_CPIO).tmp
	$(Q)cmp -s $(ROOTFS_CPIO).tmp $(ROOTFS_CPIO) && rm $(ROOTFS_CPIO).tmp || mv $(ROOTFS_CPIO).tmp $(ROOTFS_CPIO)
	$(Q)touch $@

# An unchanged archive keeps its mtime, so the kernel that embeds it is not relinked.
$(ROOTFS_CPIO): $(BUILD_DIR)/rootfs/.stamp_assembled ;

$(IMAGES_DIR)/rootfs.cpio.gz: $(ROOTFS_CPIO)
	$(Q)gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@

.PHONY: rootfs
rootfs: $(IMAGES_DIR)/rootfs.cpio.gz
IMAGES += $(IMAGES_DIR)/rootfs.cpio.gz

DEMO_GUEST_FILES := $(shell find $(TOPDIR)/initramfs/demo-guest 2>/dev/null)
# The demo guest's one program of its own: a hostile network load for the user-network tests.
NETSTRESS_BIN := $(BUILD_DIR)/guest-initrd/netstress
$(NETSTRESS_BIN): $(TOPDIR)/initramfs/netstress.c $(MUSL_DIR)/.stamp_installed
	$(Q)mkdir -p $(@D)
	$(Q)$(TARGET_CC) -std=c11 -static -Os -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
		-ffile-prefix-map=$(TOPDIR)/= -o $@ $<

$(IMAGES_DIR)/guest-initrd.cpio.gz: $(GEN_INIT_CPIO) $(MKLIST) $(BUSYBOX_DIR)/.stamp_installed $(DEMO_GUEST_FILES) \
		$(NETSTRESS_BIN)
	@$(call banner,guest-initrd Assembling demo guest initramfs)
	$(Q)mkdir -p $(@D) $(BUILD_DIR)/guest-initrd
	$(Q)$(MKLIST) --skeleton $(TOPDIR)/initramfs/demo-guest --busybox $(BUSYBOX_BIN) \
		--file /bin/netstress=$(NETSTRESS_BIN) > $(BUILD_DIR)/guest-initrd/files.list
	$(Q)$(GEN_INIT_CPIO) -t $(SOURCE_DATE_EPOCH) $(BUILD_DIR)/guest-initrd/files.list | gzip -9 -n > $@.tmp
	$(Q)mv $@.tmp $@

.PHONY: guest-initrd
guest-initrd: $(IMAGES_DIR)/guest-initrd.cpio.gz
ifeq ($(CONFIG_IMAGE_DEMO_GUESTS),y)
IMAGES += $(IMAGES_DIR)/guest-initrd.cpio.gz
endif
