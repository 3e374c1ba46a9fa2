#!/bin/bash
# Two vCPUs: both come up (the guest's nproc says 2).
. "$(dirname "$0")/lib.sh"
boot_default --cpus 2 -- nproc
expect_status 0
expect_console '^mote guest: kernel [^ ]+, 2 vCPUs, '
expect_console '^2$'
expect_console '^mote-job-status: 0$'
