"""gridsupply: supply.projects."""
