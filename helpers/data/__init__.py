"""Datasets: the PYSKL pickle format and its checks, layouts, class names, splits, the cache, synthetic data and importers."""
