"""skeleton-actions: skeleton-based action recognition helpers used by the notebooks and commands."""

__version__ = "0.1.0"
