# Targets that drive the sandbox, guest images and benchmarks.
