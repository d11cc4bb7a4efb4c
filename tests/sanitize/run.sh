#!/usr/bin/env bash
# make check-sanitize. The offline side (snapshot reader, symbolizer,
# report writers, suppressions, baselines) and the unit tests under
# AddressSanitizer + UndefinedBehaviorSanitizer in ASAN_BUILD, the
# lock-free table and stack depot tests under ThreadSanitizer in
# TSAN_BUILD. The preloaded library itself is never run sanitized: it is
# loaded into programs that are not (ASan must come first in the process),
# so the traced runs use the plain build and the ASan build of the
# leaktrace command renders their snapshots.
#
#   run.sh SOURCE_ROOT PLAIN_BUILD_DIR
set -euo pipefail
src=$(cd "${1:?source root}" && pwd)
plain=$(cd "${2:?plain build dir}" && pwd)
asan=${ASAN_BUILD:-$src/build-asan}
tsan=${TSAN_BUILD:-$src/build-tsan}
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

configure() {
	[ -f "$1/build.ninja" ] || meson setup "$1" "$src" -Db_sanitize="$2" -Db_lundef=false \
		-Dbuildtype=debugoptimized
}

# test_unwind is left out: it checks the preloaded library's unwinder
# frame by frame against libunwind, and ASan's own signal interceptor adds
# a frame between the signal and the handler under test.
units=(test_snapshot_read test_records test_report_text test_suppress test_json
       test_report_json test_symbolizer test_options test_outfile test_depot test_table)
echo "== AddressSanitizer + UndefinedBehaviorSanitizer: $asan"
configure "$asan" address,undefined
ninja -C "$asan" leaktrace "${units[@]/#/tests/unit/}"
meson test -C "$asan" --no-rebuild --print-errorlogs "${units[@]}"

echo "== the ASan leaktrace renders snapshots of the plain build's traced runs"
ninja -C "$plain" >/dev/null
python3 "$src/tests/sanitize/render.py" --plain "$plain/leaktrace" --reporter "$asan/leaktrace" \
	--examples "$plain/examples" --supp-dir "$src/tests/fuzz/corpus/suppressions" \
	--outdir "$asan/sanitize/render"
for c in stripped corrupt deleted debugfile; do
	python3 "$src/tests/integration/check_degrade.py" "$c" --leaktrace "$plain/leaktrace" \
		--reporter "$asan/leaktrace" --outdir "$asan/sanitize/degrade-$c" \
		-- "$plain/examples/exit-code-O2-nofp" "$plain/tests/integration/selfdelete" |
		grep -v '^\[PASS\]'
done

for c in identical corrupt unwritable bound debuglink; do
	python3 "$src/tests/integration/check_debugcache.py" "$c" --leaktrace "$plain/leaktrace" \
		--preload "$plain/libleaktrace.so" --reporter "$asan/leaktrace" \
		--outdir "$asan/sanitize/debugcache-$c" -- "$plain/examples/linked-list" |
		grep -v '^\[PASS\]'
done

echo "== ThreadSanitizer: $tsan"
configure "$tsan" thread
ninja -C "$tsan" tests/unit/test_table tests/unit/test_depot
meson test -C "$tsan" --no-rebuild --print-errorlogs test_table test_depot
echo "check-sanitize: all passed"
