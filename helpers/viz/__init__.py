"""Figures: training curves, confusion matrices, skeleton drawings, the skeleton player, data summaries."""
