LIB_SRCS += virtio/virtq.c virtio/mmio.c virtio/blk.c virtio/net.c \
            virtio/backend/blk_file.c virtio/backend/blk_cow.c virtio/backend/cow_overlay.c
