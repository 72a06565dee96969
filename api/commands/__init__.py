"""gridsupply: api/commands."""
