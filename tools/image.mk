# Images that tools/ assembles: the config partition image and the flashable disk.
MKDISKIMG := $(TOPDIR)/tools/mkdiskimg

# The config partition: IMAGE_CONFIG_DIR packed by tools/shrike-config (docs/config-partition.md).
include $(TOPDIR)/tools/shrike-config.mk
IMAGE_CONFIG_SRC := $(call qstrip,$(CONFIG_IMAGE_CONFIG_DIR))
IMAGE_CONFIG_SRC := $(if $(filter /%,$(IMAGE_CONFIG_SRC)),$(IMAGE_CONFIG_SRC),$(TOPDIR)/$(IMAGE_CONFIG_SRC))

# The directory itself too: its time changes when a file is added or removed.
$(IMAGES_DIR)/config.img: $(SHRIKE_CONFIG_TOOL) $(IMAGE_CONFIG_SRC) $(wildcard $(IMAGE_CONFIG_SRC)/*) $(KCONFIG_CONFIG)
	@$(call banner,config-image Packing config.img from $(IMAGE_CONFIG_SRC))
	$(Q)mkdir -p $(@D)
	$(Q)$(SHRIKE_CONFIG_TOOL) pack $(IMAGE_CONFIG_SRC) $@ --size $(CONFIG_IMAGE_CONFIG_SIZE_MB)M >/dev/null

# The data partition's tree: the demo guests' kernel and initrd.
DATA_TREE := $(BUILD_DIR)/data-partition
DATA_FILES := $(if $(filter y,$(CONFIG_IMAGE_DEMO_GUESTS)),$(IMAGES_DIR)/guest-bzImage $(IMAGES_DIR)/guest-vmlinux \
	$(IMAGES_DIR)/guest-initrd.cpio.gz)

$(IMAGES_DIR)/disk.img: $(MKDISKIMG) $(IMAGES_DIR)/bzImage $(IMAGES_DIR)/config.img $(DATA_FILES) $(KCONFIG_CONFIG)
	@$(call banner,disk-image Assembling disk.img)
	$(Q)rm -rf $(DATA_TREE) && mkdir -p $(DATA_TREE)
	$(Q)$(if $(DATA_FILES),mkdir -p $(DATA_TREE)/demo && cp $(DATA_FILES) $(DATA_TREE)/demo/)
	$(Q)$(MKDISKIMG) --out $@ --kernel $(IMAGES_DIR)/bzImage --config $(IMAGES_DIR)/config.img \
		--data-dir $(DATA_TREE) --esp-size $(CONFIG_IMAGE_ESP_SIZE_MB) \
		--data-size $(CONFIG_IMAGE_DATA_SIZE_MB) --tmpdir $(BUILD_DIR)/disk-image

.PHONY: disk-image
disk-image: $(IMAGES_DIR)/disk.img
IMAGES += $(IMAGES_DIR)/config.img $(IMAGES_DIR)/disk.img
