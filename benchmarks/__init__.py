"""Benchmarks of crmtui at scale (``python benchmarks/run.py --help``)."""
