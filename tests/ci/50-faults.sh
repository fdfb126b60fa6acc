#!/bin/bash
# 50-faults.sh - CI stage: failed system calls, a full file system, kill -9.
#
#   make faults   every open/write/fsync/rename/close of a transaction
#                 failed in turn (ENOSPC, EIO) through an LD_PRELOAD shim,
#                 short writes, then a real 2 MiB tmpfs as the spool
#   make crash    1000 sessions killed with SIGKILL at random points; new/
#                 must hold only whole, well-formed messages
#
# Runs as root (the tmpfs mount; smtpfe chroots and drops to nobody).
# Uses ports 25600-25699 on 127.0.0.1 only.  The tests stop their own
# servers by PID; the trap below only unmounts a tmpfs that a killed
# test left behind under its own prefix.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
	echo "50-faults: must run as root (mount, chroot, drop to nobody)" >&2
	exit 1
fi
for tool in python3 mount umount; do
	command -v "$tool" >/dev/null || {
		echo "50-faults: $tool is missing" >&2
		exit 1
	}
done
id nobody >/dev/null

cleanup() {
	local mnt
	# Field 2 of /proc/mounts: the mount point; ours are named so.
	awk '$2 ~ /\/smtpfe-fullfs\.[^\/]*\/spool$/ { print $2 }' \
	    /proc/mounts | while read -r mnt; do
		umount "$mnt" || umount -l "$mnt" || true
	done
}
trap cleanup EXIT

start=$(date +%s)
make -s
make faults
make crash CRASH_SESSIONS=1000 CRASH_JOBS=6 CRASH_SEED="${CRASH_SEED:-$start}"
echo "50-faults: passed in $(( $(date +%s) - start )) s"
