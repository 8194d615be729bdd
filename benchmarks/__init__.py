"""Benchmarks (not tests). `make bench` runs every `benchmarks/bench_*.py` module's main().

Each figure is printed beside an anchor measured in the same run, as a ratio, because
absolute times on shared machines are noisy. Run one with `python -m benchmarks NAME`.
"""
