#!/bin/bash
# The job's exit status travels through the exit port to mote's status.
. "$(dirname "$0")/lib.sh"
boot_default -- sh -c 'exit 42'
expect_status 42
expect_console '^mote-job-status: 42$'
boot_default -- false
expect_status 1
expect_console '^mote-job-status: 1$'
