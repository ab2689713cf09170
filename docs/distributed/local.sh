#!/bin/sh
# One exploration on one many-core machine: 8 shards, as many at a time as
# there are cores (xargs -P), then the merge. See docs/distributed.md.
set -eu
mkdir -p out
seq 0 7 | xargs -P "$(nproc)" -I{} env JOB_COMPLETION_INDEX={} sh -c '
ext4lab explore s2 --bound 2 --budget 100000000 --shard "$((JOB_COMPLETION_INDEX + 1))/8" --checkpoint "out/$JOB_COMPLETION_INDEX.ckpt" --resume auto --json > "out/$JOB_COMPLETION_INDEX.json"
'
ext4lab merge out/*.json
