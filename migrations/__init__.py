"""Alembic migrations of the gridsupply database (shipped with the package)."""
