# All tests: what .ci/run runs after installing what they need (README).
.PHONY: test
test:
	go vet ./...
	go test -count=1 ./...
	CGO_ENABLED=1 go test -count=1 -tags duckdb -run DuckDB ./internal/engine/

# Benchmark of issue 6: builds the capture if missing, runs both modes 5 times.
.PHONY: bench
bench:
	go run ./tools/bench
