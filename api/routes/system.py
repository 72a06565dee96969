"""Service health."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import SessionDep

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """Whether the service can reach its database."""

    status: str = Field(description="ok / 正常")
    database: str = Field(description="数据库方言 / database dialect in use")


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """运行状态：数据库可用时返回 ok / Report ok when the database answers."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Health(status="ok", database=session.get_bind().dialect.name)
