"""Benchmarks of the real pipeline, on embedded servers, that write their figures as JSON."""
