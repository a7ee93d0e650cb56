#!/bin/sh
# Interleaved A/B of compile-time variants of the attention kernel (Sources/CKernels/attention.c).
#
#   Benchmarks/kernel-ab/run_attention.sh "THREADS ROUNDS G IMAGES HEADS" "FLAGS0" ["FLAGS1" ...]
#
# e.g.  Benchmarks/kernel-ab/run_attention.sh "2 5 8 9 6" "" "-DSOME_EXPERIMENT"
#       SRC1=/tmp/attention-copy.c Benchmarks/kernel-ab/run_attention.sh "2 5 8 9 6" "" ""
# The shape string is threads, rounds, the window grid side G (8 = stage 1 at 384), images, heads.
# Variant i compiles $SRCi (default: the repo's attention.c) with FLAGSi. Needs clang.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shape=$1; shift
[ $# -ge 1 ] && [ $# -le 4 ] || { echo "give 1 to 4 variant flag strings" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
i=0; objs=""
for flags in "$@"; do
    src=$(eval echo "\${SRC$i:-$root/Sources/CKernels/attention.c}")
    # shellcheck disable=SC2086
    clang -O2 -fno-math-errno $flags -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
        -Dramk_attention_f32=v${i}_att -c "$src" -o "$tmp/v$i.o"
    objs="$objs $tmp/v$i.o"; i=$((i + 1))
done
n=$i
while [ $i -lt 4 ]; do
    clang -O2 -fno-math-errno -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
        -Dramk_attention_f32=v${i}_att -c "$root/Sources/CKernels/attention.c" -o "$tmp/v$i.o"
    objs="$objs $tmp/v$i.o"; i=$((i + 1))
done
set -- $shape
# shellcheck disable=SC2086
clang -O2 -I"$root/Sources/CKernels/include" "$here/attention_ab.c" $objs -o "$tmp/attention_ab" -lpthread -lm
"$tmp/attention_ab" "$1" "$n" "$2" "$3" "$4" "$5"
