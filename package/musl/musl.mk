# musl: the C library of everything that runs in the appliance. Installed with its
# gcc wrapper (musl-gcc + specs) into a sysroot that also holds the kernel's UAPI headers.
MUSL_VERSION = 1.2.5
MUSL_DEB_VERSION = 1.2.5-3.1~deb13u1
MUSL_SOURCE_PACKAGE = musl
MUSL_SOURCE = musl_$(MUSL_VERSION).orig.tar.gz
MUSL_LICENSE = MIT
MUSL_DEPENDENCIES = linux

define MUSL_CONFIGURE_CMDS
	$(Q)cd $(MUSL_DIR) && CC=gcc CFLAGS="-O2 -ffile-prefix-map=$(MUSL_DIR)=musl" ./configure \
		--prefix=$(SYSROOT) --syslibdir=$(SYSROOT)/lib --disable-shared --enable-wrapper=gcc >/dev/null
endef

define MUSL_BUILD_CMDS
	$(Q)$(MAKE) -C $(MUSL_DIR) -s -j$(PARALLEL_JOBS)
endef

define MUSL_INSTALL_CMDS
	$(Q)$(MAKE) -C $(MUSL_DIR) -s install
endef

$(eval $(call shrike-package,musl))
