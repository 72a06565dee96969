"""Settings from the environment (prefix `GRIDSUPPLY_`), read when asked for, never at import."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GRIDSUPPLY_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///gridsupply.db",
        description="SQLAlchemy URL; default a SQLite file in the working directory. "
        "PostgreSQL: postgresql+psycopg://user@host/dbname",
    )
    echo_sql: bool = Field(default=False, description="log every SQL statement")
    timezone: str = Field(default="Asia/Shanghai", description="the company's local time zone")
    default_delivery_warehouse: str = Field(
        default="WH-CENTRAL",
        description="where agreement deliveries arrive unless the agreement names a site",
    )


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()
