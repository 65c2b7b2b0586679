# grazr_proc: `make demo` runs the main job, `make test` runs every test.
# Everything is built in release mode into target/release; the C, C++, Python and Node tests use
# that library, so what is tested is what ships.

CARGO   ?= cargo
PYTHON  ?= python3
VENV    ?= .venv
LIBDIR  := $(CURDIR)/target/release
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
MINOR   := $(word 2,$(subst ., ,$(VERSION)))
SONAME  := libgrazr_proc.so.0.$(MINOR)

.PHONY: all build lib demo bench bench-quick test test-fuzz test-rust test-c test-cpp test-node test-install test-python header-check lint clean

all: build

## The library (.so, .a) and header, plus the SONAME link that in-tree dynamic links need.
build lib:
	$(CARGO) build --release
	ln -sf libgrazr_proc.so $(LIBDIR)/$(SONAME)

## make install PREFIX=... / make uninstall PREFIX=...: the .so with its SONAME links, the .a,
## the C and C++ headers and a pkg-config file.
include bindings/c/install.mk

## The main job: a C host drives two real services on 127.0.0.1 through the library.
demo: build
	$(MAKE) -C bindings/c demo LIBDIR=$(LIBDIR)

## Benchmarks (not tests): side by side with a model of the seed's algorithm and the kernel's
## floor. `bench` writes bench/REPORT.md and bench/report.svg (< 10 min); `bench-quick` runs
## every scenario briefly (< 90 s) so that the benchmarks cannot rot.
bench:
	$(MAKE) -C bench bench

bench-quick:
	$(MAKE) -C bench bench-quick

## Every test: Rust, C (static, dynamic, ASan, valgrind, C++ compile), Python (ctypes and
## the Grazr drop-in against real daemons), then the header and lint checks.
test: build header-check test-rust test-c test-cpp test-node test-install test-python test-fuzz lint
	@echo "make test: all suites passed"

## The committed header must be what the build generates.
header-check: build
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git diff --exit-code -- include/ || { echo "include/grazr_proc.h is stale: commit the regenerated header"; exit 1; }; \
	fi

test-rust:
	$(CARGO) test --release --all-targets

test-c: build
	$(MAKE) -C tests/c test LIBDIR=$(LIBDIR)

test-cpp: build
	$(MAKE) -C bindings/cpp test LIBDIR=$(LIBDIR)

test-node: build
	$(MAKE) -C bindings/node test LIBDIR=$(LIBDIR)

## Installs into a temporary prefix and builds a C program out of tree against it.
test-install: build
	tests/install/run.sh

$(VENV)/bin/pytest:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet pytest

test-python: build $(VENV)/bin/pytest
	GRAZR_PROC_LIB=$(LIBDIR)/libgrazr_proc.so PYTHON=$(CURDIR)/$(VENV)/bin/python tests/python/run.sh

## A 60-second smoke of the C-ABI fuzz target, built with plain cargo (no cargo-fuzz needed),
## inside a PID and mount namespace. The hardening suites themselves (bad input, faults, load,
## crash and re-adopt, never-signal under strace) are Rust integration tests run above.
test-fuzz: build
	GRAZR_FUZZ_PLAIN=1 fuzz/run.sh 60

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(VENV) tests/c/build bindings/c/build bindings/cpp/build bindings/node/node_modules
