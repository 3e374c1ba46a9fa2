# arm64 has no platform devices of its own: the architected timer, the
# GIC and PSCI are in KVM, the rest is devices/ (vmm/core/arm64/platform.c).
