#!/bin/bash
# One vCPU: the guest boots, sees one CPU, runs the job and reports 0.
. "$(dirname "$0")/lib.sh"
boot_default --cpus 1 -- nproc
expect_status 0
expect_console '^mote guest: kernel [^ ]+, 1 vCPUs, [0-9]+ MiB memory'
expect_console '^1$'
expect_console '^mote-job-status: 0$'
