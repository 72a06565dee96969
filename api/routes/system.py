"""Service health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.deps import SessionDep
from api.errors import error_response
from supply.core.db import read_only_reason

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """Whether the service can use its database: it answers and takes writes."""

    status: str = Field(description="ok / 正常")
    database: str = Field(description="数据库方言 / database dialect in use")


@router.get(
    "/health",
    response_model=Health,
    responses={
        503: {
            "description": "数据库不可用或只读(detail 说明原因与处理) / the database does not "
            "answer, or is read-only (`detail` says which and how to fix it)"
        }
    },
)
def health(session: SessionDep) -> Any:
    """运行状态：数据库可读写时返回 ok / Report ok when the database answers and takes writes."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    reason = read_only_reason(engine)
    if reason:
        return error_response(503, "database_read_only", reason, loc=("database",))
    return Health(status="ok", database=engine.dialect.name)
