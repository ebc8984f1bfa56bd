# Images that tools/ assembles: the config partition image and the flashable disk.
MKDISKIMG := $(TOPDIR)/tools/mkdiskimg

# Placeholder until the config partition format exists: an all-zero partition, which the
# appliance will read as "no valid slot" (the documented safe state).
$(IMAGES_DIR)/config.img: $(KCONFIG_CONFIG)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && truncate -s $(CONFIG_IMAGE_CONFIG_SIZE_MB)M $@

# The data partition's tree: the demo guests' kernel and initrd.
DATA_TREE := $(BUILD_DIR)/data-partition
DATA_FILES := $(if $(filter y,$(CONFIG_IMAGE_DEMO_GUESTS)),$(IMAGES_DIR)/guest-bzImage $(IMAGES_DIR)/guest-initrd.cpio.gz)

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
