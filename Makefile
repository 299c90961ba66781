# Benchmark of issue 6: builds the capture if missing, runs both modes 5 times.
.PHONY: bench
bench:
	go run ./tools/bench
