"""Importers of other keypoint formats into the project's dataset format (python -m helpers.convert)."""
