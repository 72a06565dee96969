"""gridsupply: supply.holds."""
