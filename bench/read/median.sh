#!/bin/bash
# median.sh FILE...: median CPU and wall µs per call by variant and workload
cat "$@" | awk '{k=$2" "$1; cpu[k]=cpu[k]" "$4; wall[k]=wall[k]" "$5} END {for (k in cpu) print k, cpu[k], "|", wall[k]}' | sort | while read w v rest; do
  c=$(echo "${rest%%|*}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), NR}')
  x=$(echo "${rest##*|}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  echo "$w $v cpu_median=${c% *} runs=${c#* } wall_median=$x"
done
