# Network backends behind virtio/backend/net_backend.h.
LIB_SRCS += virtio/backend/net_tap.c virtio/backend/net_slirp.c virtio/backend/net_mac.c
