# Generic package infrastructure, Buildroot style.
#
# A package/NAME/NAME.mk sets, with PKG the upper-case name:
#   PKG_VERSION          upstream version: names the build directory, shown in banners
#   PKG_DEB_VERSION      version of the Debian source package that carries it
#   PKG_SOURCE_PACKAGE   name of that Debian source package
#   PKG_SOURCE           the upstream tarball among the downloaded files
#   PKG_LICENSE          license of the upstream source
#   PKG_DEPENDENCIES     packages that must be installed first
#   PKG_CONFIGURE_CMDS, PKG_BUILD_CMDS, PKG_INSTALL_CMDS   (all optional)
# and then calls $(eval $(call shrike-package,NAME)).
#
# Every file apt downloads must be listed with its sha256 in package/NAME/NAME.hash;
# the hash is checked before each extraction, so a changed byte in the download cache
# stops the build. Patches package/NAME/*.patch are applied in name order.

# The download files a .hash pins, as paths in the download cache.
pkg-dl-files = $(addprefix $(DL_DIR)/$(1)/,$(shell awk '$$1 == "sha256" { print $$3 }' $(TOPDIR)/package/$(1)/$(1).hash))

define inner-shrike-package
$(2)_PKGDIR      := $(TOPDIR)/package/$(1)
$(2)_DIR         := $(BUILD_DIR)/$(1)-$$($(2)_VERSION)
$(2)_DL_FILES    := $$(call pkg-dl-files,$(1))
$(2)_BANNER       = $(1) $$($(2)_VERSION)

$$($(2)_DL_FILES) &: $$($(2)_PKGDIR)/$(1).hash | $(HOST_SETUP_STAMP)
	$(Q)$(TOPDIR)/package/dl-apt-source $(1) $$($(2)_VERSION) $$($(2)_SOURCE_PACKAGE) $$($(2)_DEB_VERSION) $$($(2)_PKGDIR)/$(1).hash $(DL_DIR)/$(1)

$$($(2)_DIR)/.stamp_extracted: $$($(2)_DL_FILES)
	@$(call banner,$$($(2)_BANNER) Extracting)
	$(Q)$(TOPDIR)/package/check-hash $$($(2)_PKGDIR)/$(1).hash $(DL_DIR)/$(1)
	$(Q)rm -rf $$($(2)_DIR) && mkdir -p $$($(2)_DIR)
	$(Q)tar -xf $(DL_DIR)/$(1)/$$($(2)_SOURCE) -C $$($(2)_DIR) --strip-components=1 --no-same-owner
	$(Q)for p in $$(sort $$(wildcard $$($(2)_PKGDIR)/*.patch)); do \
		echo "Applying $$$$p"; patch -d $$($(2)_DIR) -p1 -s < $$$$p || exit 1; done
	$(Q)touch $$@

$$($(2)_DIR)/.stamp_configured: $$($(2)_DIR)/.stamp_extracted $$(foreach d,$$($(2)_DEPENDENCIES),$$($$(call UPPERCASE,$$(d))_DIR)/.stamp_installed)
	@$(call banner,$$($(2)_BANNER) Configuring)
	$$($(2)_CONFIGURE_CMDS)
	$(Q)touch $$@

$$($(2)_DIR)/.stamp_built: $$($(2)_DIR)/.stamp_configured
	@$(call banner,$$($(2)_BANNER) Building)
	$$($(2)_BUILD_CMDS)
	$(Q)touch $$@

$$($(2)_DIR)/.stamp_installed: $$($(2)_DIR)/.stamp_built
	@$(call banner,$$($(2)_BANNER) Installing)
	$$($(2)_INSTALL_CMDS)
	$(Q)touch $$@

.PHONY: $(1) $(1)-source $(1)-extract $(1)-dirclean
$(1): $$($(2)_DIR)/.stamp_installed
$(1)-source: $$($(2)_DL_FILES)
$(1)-extract: $$($(2)_DIR)/.stamp_extracted
$(1)-dirclean:
	rm -rf $$($(2)_DIR)

PACKAGES += $(1)
endef

UPPERCASE = $(shell echo $(1) | tr a-z- A-Z_)
shrike-package = $(call inner-shrike-package,$(1),$(call UPPERCASE,$(1)))
