# `make install` / `make uninstall` for libgrazr_proc, included by the top Makefile:
#
#   include bindings/c/install.mk
#
# It installs what a C or C++ program needs to build against the library from outside this tree:
#   $(PREFIX)/lib/libgrazr_proc.so.X.Y.Z      the shared library (real file)
#   $(PREFIX)/lib/libgrazr_proc.so.X.Y        its SONAME link, what programs load at run time
#   $(PREFIX)/lib/libgrazr_proc.so            the link `-lgrazr_proc` finds at link time
#   $(PREFIX)/lib/libgrazr_proc.a             the static archive
#   $(PREFIX)/include/grazr_proc.h, grazr_proc.hpp
#   $(PREFIX)/lib/pkgconfig/grazr_proc.pc
# PREFIX defaults to /usr/local; DESTDIR is prepended to every path (for packagers) but not to the
# prefix written into grazr_proc.pc. `make uninstall` removes exactly these files and leaves the
# directories, which may have existed before and may hold other packages' files.

PREFIX  ?= /usr/local
DESTDIR ?=

# Paths come from this file's own location, so the fragment works whatever includes it.
GRAZR_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))../..)
GRAZR_BUILD_DIR := $(GRAZR_ROOT)/target/release

# Cargo.toml is the only place a version is written. The version line of its [package] section
# gives the file name; the SONAME follows the core's rule (libgrazr_proc.so.0.MINOR while the
# version is 0.x, libgrazr_proc.so.MAJOR from 1.0 on), and the install recipe checks it against
# the SONAME the linker actually wrote into the built library.
GRAZR_VERSION := $(shell awk -F'"' '/^\[/ { pkg = ($$0 == "[package]") } pkg && /^version *=/ { print $$2; exit }' $(GRAZR_ROOT)/Cargo.toml)
GRAZR_VERSION_PARTS := $(subst ., ,$(GRAZR_VERSION))
GRAZR_MAJOR := $(word 1,$(GRAZR_VERSION_PARTS))
GRAZR_MINOR := $(word 2,$(GRAZR_VERSION_PARTS))
GRAZR_SONAME := libgrazr_proc.so.$(if $(filter 0,$(GRAZR_MAJOR)),0.$(GRAZR_MINOR),$(GRAZR_MAJOR))
GRAZR_REALNAME := libgrazr_proc.so.$(GRAZR_VERSION)

# What a static link needs besides the archive: rustc's `native-static-libs` for this crate on
# glibc Linux. They go into Libs.private, which `pkg-config --static --libs` prints.
GRAZR_LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

GRAZR_DEST_LIB := $(DESTDIR)$(PREFIX)/lib
GRAZR_DEST_INC := $(DESTDIR)$(PREFIX)/include
GRAZR_DEST_PC  := $(DESTDIR)$(PREFIX)/lib/pkgconfig

# Every file install makes; uninstall removes this list and nothing else.
GRAZR_INSTALLED := \
	$(GRAZR_DEST_LIB)/$(GRAZR_REALNAME) \
	$(GRAZR_DEST_LIB)/$(GRAZR_SONAME) \
	$(GRAZR_DEST_LIB)/libgrazr_proc.so \
	$(GRAZR_DEST_LIB)/libgrazr_proc.a \
	$(GRAZR_DEST_INC)/grazr_proc.h \
	$(GRAZR_DEST_INC)/grazr_proc.hpp \
	$(GRAZR_DEST_PC)/grazr_proc.pc

# Included before the top Makefile's first target, these rules must not become the default goal.
GRAZR_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

.PHONY: install uninstall

install: build
	@test -n "$(GRAZR_VERSION)" || { echo "install.mk: no version in $(GRAZR_ROOT)/Cargo.toml" >&2; exit 1; }
	@case "$(PREFIX)" in /*) ;; *) echo "install.mk: PREFIX must be an absolute path, got '$(PREFIX)'" >&2; exit 1;; esac
	@built=$$(readelf -d $(GRAZR_BUILD_DIR)/libgrazr_proc.so 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'); \
	if [ -n "$$built" ] && [ "$$built" != "$(GRAZR_SONAME)" ]; then \
	  echo "install.mk: the built library's SONAME is $$built, expected $(GRAZR_SONAME) for version $(GRAZR_VERSION)" >&2; exit 1; \
	fi
	install -d $(GRAZR_DEST_LIB) $(GRAZR_DEST_INC) $(GRAZR_DEST_PC)
	install -m 0755 $(GRAZR_BUILD_DIR)/libgrazr_proc.so $(GRAZR_DEST_LIB)/$(GRAZR_REALNAME)
	ln -sfn $(GRAZR_REALNAME) $(GRAZR_DEST_LIB)/$(GRAZR_SONAME)
	ln -sfn $(GRAZR_SONAME) $(GRAZR_DEST_LIB)/libgrazr_proc.so
	install -m 0644 $(GRAZR_BUILD_DIR)/libgrazr_proc.a $(GRAZR_DEST_LIB)/libgrazr_proc.a
	install -m 0644 $(GRAZR_ROOT)/include/grazr_proc.h $(GRAZR_DEST_INC)/grazr_proc.h
	install -m 0644 $(GRAZR_ROOT)/bindings/cpp/grazr_proc.hpp $(GRAZR_DEST_INC)/grazr_proc.hpp
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(GRAZR_VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(GRAZR_LIBS_PRIVATE)|g' \
	    $(GRAZR_ROOT)/bindings/c/grazr_proc.pc.in > $(GRAZR_DEST_PC)/grazr_proc.pc.tmp
	mv -f $(GRAZR_DEST_PC)/grazr_proc.pc.tmp $(GRAZR_DEST_PC)/grazr_proc.pc
	chmod 0644 $(GRAZR_DEST_PC)/grazr_proc.pc

uninstall: build
	rm -f $(GRAZR_INSTALLED)

.DEFAULT_GOAL := $(GRAZR_SAVED_DEFAULT_GOAL)
