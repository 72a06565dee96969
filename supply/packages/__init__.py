"""gridsupply: supply.packages."""
