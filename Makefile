# Convenience wrapper around meson/ninja for people and CI.
#   make        build into build/
#   make demo   install what is missing, build, trace a bundled leaky example
#   make check  install what is missing, build, run every test
BUILD ?= build
DEPS = meson ninja-build pkg-config gcc g++ python3 libunwind-dev libdw-dev \
       libelf-dev libcmocka-dev valgrind cmake strace gdb clang libclang-rt-14-dev
DEMO ?= $(BUILD)/examples/linked-list

.PHONY: all build deps demo check check-sanitize unit fuzz soak pause-bench clean

all: build

# Installs only the Debian packages that are missing; needs root to do so.
deps:
	@missing=""; \
	for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "leaktrace: installing missing build dependencies:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then \
			echo "leaktrace: run as root, or: sudo apt-get install$$missing" >&2; exit 1; \
		fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory build
	@echo "== $(BUILD)/leaktrace $(DEMO)"
	@$(BUILD)/leaktrace $(DEMO)

check: deps
	@$(MAKE) --no-print-directory build
	meson test -C $(BUILD) --print-errorlogs

# The offline side and the unit tests under ASan+UBSan (build-asan), the
# table and depot tests under TSan (build-tsan); see tests/sanitize/run.sh.
check-sanitize: deps
	@$(MAKE) --no-print-directory build
	bash tests/sanitize/run.sh . $(BUILD)

# Each fuzz target for FUZZ_SECONDS (default five minutes).
FUZZ_SECONDS ?= 300
fuzz: deps
	@$(MAKE) --no-print-directory build
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) . $(BUILD)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

clean:
	rm -rf $(BUILD)

# Overhead next to LeakSanitizer, heaptrack and valgrind; 6-10 minutes
# (BENCH_QUICK=1: 1-1.5 minutes). Table on stdout and in $(BUILD)/bench/results.md.
BENCH_DEPS = gcc python3 sqlite3 heaptrack liblsan0 valgrind

.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory deps DEPS="$(BENCH_DEPS)"
	@$(MAKE) --no-print-directory build
	BENCH_BUILD=$(BUILD) python3 bench/run.py
	meson test -C $(BUILD) --benchmark --verbose bench_report

# Reports every 100 ms for SOAK_SECONDS (default 180) while 4 threads
# allocate: no deadlock, no crash, no allocation lost. Not in make check.
SOAK_SECONDS ?= 180
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) BENCH_BUILD=$(BUILD) python3 bench/soak.py

# How long a report on demand pauses a program with 1M live blocks (1 GiB).
pause-bench: build
	BENCH_BUILD=$(BUILD) python3 bench/pause.py
