"""gridsupply: supply."""
