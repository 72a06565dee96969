"""gridsupply: supply.weekly."""
