"""gridsupply: api."""
