#!/usr/bin/env bash
# Builds the fuzz targets with clang's libFuzzer (with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for SECONDS from its seed
# corpus in corpus/NAME. A crash, a hang (10 s an input) or more than
# 1 GiB of memory fails the run, and the input is kept in WORK/NAME/.
#
#   run.sh SECONDS SOURCE_ROOT BUILD_DIR      (make check: 3 s, make fuzz: 300 s)
set -u
seconds=${1:?seconds}
src=$(cd "${2:?source root}" && pwd)
build=$(cd "${3:?build dir}" && pwd)
work=$build/fuzz
cc=${FUZZ_CC:-clang}

if ! command -v "$cc" >/dev/null; then
	echo "fuzz: $cc not found (apt-get install clang libclang-rt-14-dev): skipped"
	exit 77
fi
mkdir -p "$work"
probe=$work/probe.c
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' > "$probe"
if ! "$cc" -fsanitize=fuzzer "$probe" -o "$work/probe" 2>/dev/null; then
	echo "fuzz: $cc has no libFuzzer (apt-get install libclang-rt-14-dev): skipped"
	exit 77
fi

report="report/suppress.c report/suppress_valgrind.c report/suppress_lsan.c
	report/default_supp.c report/format.c report/report.c report/records.c report/map_records.c
	report/outbuf.c report/baseline.c report/delta.c report/fingerprint.c report/json_read.c
	report/json_write.c report/sha256.c report/report_text.c report/report_xml.c
	report/report_json.c report/report_sarif.c report/output.c
	report/output_machine.c report/output_file.c common/snapshot_read.c
	common/snapshot_load.c common/options.c common/outfile.c"
declare -A sources=(
	[snapshot]="common/snapshot_read.c common/snapshot_load.c"
	[options]="common/options.c"
	[json]="report/json_read.c report/json_write.c report/outbuf.c"
	[suppressions]="$report"
)

failed=0
for name in snapshot options json suppressions; do
	files=()
	for f in ${sources[$name]}; do files+=("$src/$f"); done
	if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$build" -I"$src/common" -I"$src/report" -I"$src/symbolizer" \
		"$src/tests/fuzz/fuzz_$name.c" "${files[@]}" -o "$work/fuzz_$name"; then
		echo "fuzz: cannot build fuzz_$name"
		failed=1
		continue
	fi
	corpus=$work/$name/corpus
	mkdir -p "$corpus"
	cp "$src/tests/fuzz/corpus/$name/"* "$corpus/"
	if (cd "$work/$name" && "$work/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 "$corpus" > log.txt 2>&1); then
		echo "fuzz_$name: $(grep -E '^stat::number_of_executed_units' "$work/$name/log.txt" |
			awk '{print $2}') inputs in ${seconds} s, no failure"
	else
		echo "fuzz_$name: FAILED; input and log kept in $work/$name"
		tail -40 "$work/$name/log.txt"
		failed=1
	fi
done
exit $failed
