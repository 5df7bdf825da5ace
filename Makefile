# Thin wrapper over CMake. `make run`: set up, build, show the topology, a
# quick benchmark (ending with its summary in words) and the GLFW demo.
# `make test`: set up, build, run every test, then again under
# ThreadSanitizer and under AddressSanitizer + UndefinedBehaviorSanitizer.

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
# A safety net only: every test registered with px_add_test has its own timeout.
CTEST      := ctest --output-on-failure -j$(JOBS) --timeout 900
SAN_FLAGS  := -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
              -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" $(CMAKE_ARGS)

.PHONY: all deps build run test test-unit test-posix test-tsan test-asan clean

all: build

deps:
	bash scripts/deps.sh

# Re-running the configure step is cheap and picks up new options; the build
# itself is incremental.
build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)

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
	$(CTEST) --test-dir $(BUILD_POSIX) -L '^unit$$' -E '^test_install$$'

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
