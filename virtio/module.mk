LIB_SRCS += virtio/virtq.c virtio/mmio.c virtio/blk.c virtio/blk_io.c virtio/blk_cow.c
LIB_SRCS += virtio/net.c
