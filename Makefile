# Thin wrapper over CMake. `make run`: set up, build, show the topology, a
# quick benchmark (ending with its summary in words) and the GLFW demo.
# `make test`: set up, build, run every test, then again under
# ThreadSanitizer and under AddressSanitizer + UndefinedBehaviorSanitizer.
# `make install [PREFIX=/usr/local] [DESTDIR=]`: build, then install the build.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

BUILD      ?= build
BUILD_TSAN ?= build-tsan
BUILD_ASAN ?= build-asan
BUILD_POSIX ?= build-posix
JOBS       ?= 2
# Compilers of the sanitizer builds, installed by scripts/deps.sh (clang's
# runtimes come with libclang-rt-14-dev).
TSAN_CC    ?= clang
TSAN_CXX   ?= clang++
ASAN_CC    ?= gcc
ASAN_CXX   ?= g++
CMAKE_ARGS ?=
# `make install`: the installation prefix, and a staging directory prepended
# to it (packaging: the files land in $(DESTDIR)$(PREFIX)).
PREFIX     ?= /usr/local
DESTDIR    ?=
# A safety net only: every test registered with px_add_test has its own timeout.
CTEST      := ctest --output-on-failure -j$(JOBS) --timeout 900
SAN_FLAGS  := -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
              -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" $(CMAKE_ARGS)

.PHONY: all deps build install run test test-unit test-posix test-tsan test-asan clean

all: build

deps:
	bash scripts/deps.sh

# Re-running the configure step is cheap and picks up new options; the build
# itself is incremental.
build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)

# Installs $(BUILD) as it is (shared libpinexec, the CLI, headers, pkg-config
# and CMake files; README.md, "Install and use"). A tree already configured is
# only brought up to date, not set up again: `make && sudo make install` builds
# nothing as root. ldconfig only where it applies: run as root, not staged,
# into a prefix whose lib directory the run-time linker searches.
install:
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then $(MAKE) build; fi
	cmake --build $(BUILD) -j$(JOBS)
	DESTDIR='$(DESTDIR)' cmake --install $(BUILD) --prefix '$(PREFIX)'
	@case '$(PREFIX)' in \
	    /usr|/usr/|/usr/local|/usr/local/) \
	        if [ -n '$(DESTDIR)' ]; then :; \
	        elif [ "$$(id -u)" -eq 0 ]; then echo ldconfig; ldconfig; \
	        else echo "make install: not root; run ldconfig as root"; fi ;; \
	    *) [ -n '$(DESTDIR)' ] || echo "make install: $(PREFIX) is not a system prefix:" \
	        "see README.md, Install and use (PKG_CONFIG_PATH, CMAKE_PREFIX_PATH, rpath)" ;; \
	esac

run: build
	./$(BUILD)/pinexec topo
	./$(BUILD)/pinexec topo core:0 pu:1 0-1 numa:0
	# A table for people, ending with what this run's ratios mean in words
	# (--format=benchstat, the default, keeps Go's lines for benchstat and tools).
	./$(BUILD)/pinexec bench --quick --format=table
	@if [ -f scripts/demo.sh ]; then echo "bash scripts/demo.sh"; bash scripts/demo.sh; fi

test: test-unit test-posix test-tsan test-asan

test-unit: build
	$(CTEST) --test-dir $(BUILD)

# The portable platform layer (src/posix/wait.c: no futex, no eventfd) under
# the unit tests, so the fallback stays correct on Linux too.
test-posix: deps
	cmake -S . -B $(BUILD_POSIX) -DPX_PLATFORM=posix -DPX_WITH_GLFW=OFF -DPX_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(BUILD_POSIX) -j$(JOBS)
	$(CTEST) --test-dir $(BUILD_POSIX) -L '^unit$$'

test-tsan: deps
	CC=$(TSAN_CC) CXX=$(TSAN_CXX) cmake -S . -B $(BUILD_TSAN) -DPX_SANITIZE=thread $(SAN_FLAGS)
	cmake --build $(BUILD_TSAN) -j$(JOBS)
	$(CTEST) --test-dir $(BUILD_TSAN) -E '^test_install$$' -LE '^glfw$$'

test-asan: deps
	CC=$(ASAN_CC) CXX=$(ASAN_CXX) cmake -S . -B $(BUILD_ASAN) -DPX_SANITIZE=address,undefined $(SAN_FLAGS)
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	$(CTEST) --test-dir $(BUILD_ASAN) -E '^test_install$$'

clean:
	rm -rf $(BUILD) $(BUILD_POSIX) $(BUILD_TSAN) $(BUILD_ASAN)

# Flakiness, measured: every test SOAK_N times per build (plain, TSan, ASan)
# under load and on one CPU; see scripts/soak.sh and docs/reliability.md.
SOAK_N ?= 20
.PHONY: soak
soak: build
	CC=$(TSAN_CC) CXX=$(TSAN_CXX) cmake -S . -B $(BUILD_TSAN) -DPX_SANITIZE=thread $(SAN_FLAGS)
	cmake --build $(BUILD_TSAN) -j$(JOBS)
	CC=$(ASAN_CC) CXX=$(ASAN_CXX) cmake -S . -B $(BUILD_ASAN) -DPX_SANITIZE=address,undefined $(SAN_FLAGS)
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	bash scripts/soak.sh -n $(SOAK_N) -o $(BUILD)/soak $(BUILD) $(BUILD_TSAN) $(BUILD_ASAN)
