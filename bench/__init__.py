"""Benchmarks, run by `make bench` (never by `make test`). Figures are ratios to a same-run baseline."""
