"""Profiling: the dataset format, and (to come) running reference and candidate
configurations of each agent against a backend to measure accuracy, latency and cost."""
