"""The probes at the root, as Kubernetes and load balancers ask: /healthz and /readyz.

No sign-in: they say whether the service works, never what it holds. /healthz touches nothing
(the process answers); /readyz runs the checks of `api.readiness` (database, migrations,
calendar, scheduler, and any check registered later).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from api.deps import ClockDep, SessionDep, SettingsDep
from api.errors import problems_response
from api.readiness import Probe, run_checks

router = APIRouter(tags=["system"])


class Alive(BaseModel):
    """The process is up and answering."""

    status: str = Field(default="ok", description="ok / 进程存活")


class CheckState(BaseModel):
    """One readiness check's answer."""

    name: str = Field(description="检查项 / the check: database, migrations, calendar, scheduler…")
    ready: bool
    detail: str = Field(description="所见 / what it found")


class Readiness(BaseModel):
    """Every check passed; what each found."""

    status: str = Field(default="ready", description="ready / 就绪")
    checks: list[CheckState]


@router.get(
    "/healthz",
    response_model=Alive,
    summary="存活探针 / liveness: the process is up",
    responses={
        503: {
            "description": "服务配置有误(detail 指明变量) / the service is misconfigured: a "
            "GRIDSUPPLY_ variable cannot be used (`detail` names it); the database is never asked"
        }
    },
)
async def healthz() -> Alive:
    """存活探针: 进程在运行即返回 ok(不访问数据库) / Liveness: answer ok while the process
    runs (nothing else is touched, not even the database)."""
    return Alive()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="就绪探针 / readiness: ready to work, or 503 naming each reason",
    responses={
        503: {
            "description": "未就绪: detail 逐项列出原因(loc 为 readiness 与检查项名称), 每项说明"
            "如何处理 / not ready: `detail` lists every reason, `loc` naming the check "
            "(database, migrations, calendar, scheduler) and `msg` saying how to fix it"
        }
    },
)
def readyz(session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Any:
    """就绪探针: 数据库可读写、数据库版本最新、工作日历覆盖今后 60 天、调度器运行 / Readiness:
    the database answers and takes writes, its schema is at the newest revision, the
    working-day calendar covers today and the next 60 days, the scheduler (if configured) runs;
    503 names every check that fails."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    probe = Probe(engine=engine, settings=settings, now=clock.now())
    verdicts = run_checks(probe)
    failing = [
        ("not_ready", ("readiness", name), verdict.detail)
        for name, verdict in verdicts.items()
        if not verdict.ready
    ]
    if failing:
        return problems_response(503, failing)
    return Readiness(
        checks=[CheckState(name=n, ready=v.ready, detail=v.detail) for n, v in verdicts.items()]
    )
