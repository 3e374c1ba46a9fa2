/*
 * Reading the user's kernel and initrd files, shared by every
 * architecture's loader: open a regular file with its size, and read
 * exactly a range of it. Both return -errno and print nothing; the
 * callers write the error line (boot/linux_err.h).
 */
#ifndef MOTE_BOOT_LINUX_FILE_H
#define MOTE_BOOT_LINUX_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Open path read-only: its fd, with its size in *size, or -errno
 * (-EISDIR for a directory, -EINVAL for anything else not a regular file). */
int linux_open_sized(const char *path, uint64_t *size)
	__attribute__((warn_unused_result));

/* pread exactly len bytes at off; -EIO on a short file, -errno on error. */
int linux_pread_full(int fd, void *buf, size_t len, off_t off)
	__attribute__((warn_unused_result));

#endif
