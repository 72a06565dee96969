"""gridsupply: catalogs."""
