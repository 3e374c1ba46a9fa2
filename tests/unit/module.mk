# One Check binary per file; each links against the VMM core.
UNIT_TESTS += $(sort $(wildcard tests/unit/test_*.c))
