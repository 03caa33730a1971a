"""Benchmarks: scripts that measure and print figures. They judge nothing in CI."""
