"""Offline tools: calibration, data conversion, benchmarks."""
