/*
 * Constants every virtio transport and device shares (virtio 1.1 sections
 * 2.1, 5 and 6). Our own names; do not mix with <linux/virtio_*.h>.
 */
#ifndef MOTE_VIRTIO_VIRTIO_H
#define MOTE_VIRTIO_VIRTIO_H

/* Device status bits (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01
#define VIRTIO_STATUS_DRIVER       0x02
#define VIRTIO_STATUS_DRIVER_OK    0x04
#define VIRTIO_STATUS_FEATURES_OK  0x08
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

/* Transport feature bits (section 6); ring bits live in virtio/virtq.h. */
#define VIRTIO_F_VERSION_1         32

/* Device IDs (section 5). */
#define VIRTIO_ID_NET              1
#define VIRTIO_ID_BLOCK            2

#define VIRTIO_BIT(n)              (1ull << (n))

#endif
