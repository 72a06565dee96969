"""gridsupply: supply.demand."""
