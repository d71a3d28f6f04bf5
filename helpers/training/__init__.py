"""Training: the loop, metrics, multi-view inference and checkpoints."""
