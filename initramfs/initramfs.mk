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

ROOTFS_SKELETON := $(shell find $(TOPDIR)/initramfs/skeleton 2>/dev/null)
$(IMAGES_DIR)/rootfs.cpio: $(GEN_INIT_CPIO) $(MKLIST) $(SHRIKE_BIN) $(BUSYBOX_DIR)/.stamp_installed $(ROOTFS_SKELETON)
	@$(call banner,rootfs Assembling initramfs)
	$(Q)mkdir -p $(@D) $(BUILD_DIR)/rootfs
	$(Q)$(MKLIST) --skeleton $(TOPDIR)/initramfs/skeleton --busybox $(BUSYBOX_BIN) \
		--file /init=$(SHRIKE_BIN) > $(BUILD_DIR)/rootfs/files.list
	$(Q)$(GEN_INIT_CPIO) -t $(SOURCE_DATE_EPOCH) $(BUILD_DIR)/rootfs/files.list > $@.tmp && mv $@.tmp $@

$(IMAGES_DIR)/rootfs.cpio.gz: $(IMAGES_DIR)/rootfs.cpio
	$(Q)gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@

.PHONY: rootfs
rootfs: $(IMAGES_DIR)/rootfs.cpio.gz
IMAGES += $(IMAGES_DIR)/rootfs.cpio.gz

DEMO_GUEST_FILES := $(shell find $(TOPDIR)/initramfs/demo-guest 2>/dev/null)
$(IMAGES_DIR)/guest-initrd.cpio.gz: $(GEN_INIT_CPIO) $(MKLIST) $(BUSYBOX_DIR)/.stamp_installed $(DEMO_GUEST_FILES)
	@$(call banner,guest-initrd Assembling demo guest initramfs)
	$(Q)mkdir -p $(@D) $(BUILD_DIR)/guest-initrd
	$(Q)$(MKLIST) --skeleton $(TOPDIR)/initramfs/demo-guest --busybox $(BUSYBOX_BIN) \
		> $(BUILD_DIR)/guest-initrd/files.list
	$(Q)$(GEN_INIT_CPIO) -t $(SOURCE_DATE_EPOCH) $(BUILD_DIR)/guest-initrd/files.list | gzip -9 -n > $@.tmp
	$(Q)mv $@.tmp $@

.PHONY: guest-initrd
guest-initrd: $(IMAGES_DIR)/guest-initrd.cpio.gz
ifeq ($(CONFIG_IMAGE_DEMO_GUESTS),y)
IMAGES += $(IMAGES_DIR)/guest-initrd.cpio.gz
endif
