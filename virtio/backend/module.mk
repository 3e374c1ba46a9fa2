# What virtio devices run on: block backends behind blk_backend.h and
# network backends behind net_backend.h.
LIB_SRCS += virtio/backend/blk_file.c virtio/backend/blk_cow.c virtio/backend/cow_overlay.c \
            virtio/backend/net_tap.c virtio/backend/net_slirp.c virtio/backend/net_mac.c
