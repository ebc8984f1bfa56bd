# The shrike binary: built by vmm/Makefile with the musl toolchain, statically linked.
# vmm/Makefile tracks its own dependencies, so it is always asked and does nothing
# when nothing changed.
SHRIKE_BUILD := $(BUILD_DIR)/shrike
SHRIKE_BIN := $(SHRIKE_BUILD)/shrike

$(SHRIKE_BIN): $(MUSL_DIR)/.stamp_installed $(foreach l,$(TARGET_LIBS),$($(call UPPERCASE,$(l))_DIR)/.stamp_installed) FORCE
	$(Q)$(MAKE) -C $(TOPDIR)/vmm --no-print-directory O=$(SHRIKE_BUILD) CC=$(TARGET_CC) \
		SHRIKE_VERSION=$(SHRIKE_VERSION) SHRIKE_BOARD=$(BOARD) KCONFIG_CONFIG=$(KCONFIG_CONFIG)

.PHONY: shrike
shrike: $(SHRIKE_BIN)
