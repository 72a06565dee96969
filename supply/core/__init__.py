"""gridsupply: supply/core."""
