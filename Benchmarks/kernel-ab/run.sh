#!/bin/sh
# Interleaved A/B of compile-time variants of the packed SGEMM (Sources/CKernels/sgemm.c).
#
#   Benchmarks/kernel-ab/run.sh THREADS ROUNDS "FLAGS0" ["FLAGS1" ["FLAGS2" ["FLAGS3"]]]
#
# e.g.  Benchmarks/kernel-ab/run.sh 2 3 "" "-DNC=3072 -DMC=144"
#       COLD=1 Benchmarks/kernel-ab/run.sh 2 3 "" "-DKC=384"
#       PACKED_MASK=2 COLD=1 Benchmarks/kernel-ab/run.sh 2 5 "" ""   (unpacked v0 against packed v1)
# COLD=1: weights from DRAM; PACKED=1: every variant on pre-packed weights, as inference runs;
# OPENBLAS=1: OpenBLAS's cblas_sgemm on the same operands too (column "ob").
# Each FLAGS string compiles one variant (v0 = the first); SRC=path/to/sgemm.c compares another
# copy of the source. Needs clang (part of the Swift toolchain). Builds into a temporary folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
threads=$1; rounds=$2; shift 2
[ $# -ge 1 ] && [ $# -le 4 ] || { echo "give 1 to 4 variant flag strings" >&2; exit 2; }
src=${SRC:-$root/Sources/CKernels/sgemm.c}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
i=0; objs=""
for flags in "$@"; do
    # shellcheck disable=SC2086
    clang -O2 -fno-math-errno -mavx2 -mfma $flags -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
        -Dramk_sgemm_part=v${i}_part -Dramk_sgemm=v${i}_sgemm -Dramk_gelu_inplace=v${i}_gelu \
        -Dramk_fma_probe=v${i}_probe -Dramk_sgemm_packed_b_count=v${i}_pbcount -Dramk_sgemm_pack_b=v${i}_packb \
        -Dramk_sgemm_pack_b_columns=v${i}_packbcols -Dramk_sgemm_part_packed_b=v${i}_partpb -c "$src" -o "$tmp/v$i.o"
    objs="$objs $tmp/v$i.o"; i=$((i + 1))
done
n=$i
# unused variant slots get v0's code under their names
while [ $i -lt 4 ]; do
    clang -O2 -fno-math-errno -mavx2 -mfma -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
        -Dramk_sgemm_part=v${i}_part -Dramk_sgemm=v${i}_sgemm -Dramk_gelu_inplace=v${i}_gelu \
        -Dramk_fma_probe=v${i}_probe -Dramk_sgemm_packed_b_count=v${i}_pbcount -Dramk_sgemm_pack_b=v${i}_packb \
        -Dramk_sgemm_pack_b_columns=v${i}_packbcols -Dramk_sgemm_part_packed_b=v${i}_partpb -c "$src" -o "$tmp/v$i.o"
    objs="$objs $tmp/v$i.o"; i=$((i + 1))
done
# shellcheck disable=SC2086
clang -O2 "$here/gemm_ab.c" $objs -o "$tmp/gemm_ab" -lpthread -lopenblas
"$tmp/gemm_ab" "$threads" "$n" "$rounds"
