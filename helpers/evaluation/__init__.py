"""Evaluation: scoring checkpoints (and late fusions), comparison tables, inference timing."""
