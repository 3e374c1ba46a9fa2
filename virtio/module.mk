# The virtqueue, the virtio-mmio transport and the virtio devices.
LIB_SRCS += virtio/virtq.c virtio/mmio.c virtio/blk.c virtio/net.c
