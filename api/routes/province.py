"""The province's central matching (省公司集中匹配) over HTTP: upload the cities' plans, the
provincial agreements and the transport days; read the figures; download the results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.deps import ClockDep, SessionDep, SettingsDep, UserDep, require
from supply.province.matching import Upload
from supply.province.service import get_match, list_matches, match_file, run_match

router = APIRouter(tags=["province"])
MatchId = Annotated[
    str, Path(description="匹配编号 / matching id", pattern=r"^\d{4}-W\d{2}-\d{14}-[0-9a-f]{6}$")
]


class Objective(BaseModel):
    unmet_weighted: float
    lateness_weighted: float
    cost: float


class CityFigures(BaseModel):
    city: str = Field(description="地市 / city company")
    lines: int = Field(description="需求行 / requirement lines")
    quantity: int
    matched: int = Field(description="已匹配数量 / quantity matched")
    on_time: int
    late: int
    unmet_lines: int
    unmet_quantity: int
    amount: str = Field(description="金额(元) / amount matched, CNY to the fen")


class ProvinceMatchPublic(BaseModel):
    id: str
    batch: str
    match_day: str = Field(description="省公司匹配日 / the matching day (orders placed)")
    status: str
    objective: Objective
    agreement_lines: int
    agreement_lines_serving: int = Field(description="可下单的协议行 / lines that took orders")
    at_risk: int = Field(description="有风险的协议行 / agreement lines at risk")
    cities: list[CityFigures]
    files: list[str] = Field(description="结果文件 / the files to download")


def _upload(file: UploadFile, limit: int) -> Upload:
    return Upload(file.filename or "upload.xlsx", file.file.read(limit + 1))


@router.post(
    "/province/matches",
    response_model=ProvinceMatchPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("province.match")],
)
def create_match(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    user: UserDep,
    batch: Annotated[str, Form(description="批次 / batch id, e.g. 2026-W49", max_length=8)],
    agreements: Annotated[UploadFile, File(description="省级协议库存目录 / agreement catalog")],
    transport: Annotated[UploadFile, File(description="省内运输天数 / site → city days")],
    cities: Annotated[
        list[UploadFile], File(description="各地市的协议库存需求计划 / each city's plan")
    ],
) -> dict[str, object]:
    """省公司集中匹配 / Match every city's plan against the provincial agreements.

    Every file is checked first: any problem (named by file, sheet, row and column) refuses
    the lot. The results are kept under the matching's id, to download."""
    limit = settings.max_upload_bytes
    report = run_match(
        session=session,
        batch_id=batch,
        agreements=_upload(agreements, limit),
        transport=_upload(transport, limit),
        cities=[_upload(c, limit) for c in cities],
        settings=settings,
        user=user,
        now=clock.now(),
    )
    return get_match(settings, report.id)


@router.get(
    "/province/matches",
    response_model=list[ProvinceMatchPublic],
    dependencies=[require("province.read")],
)
def read_matches(
    settings: SettingsDep,
    batch: Annotated[str | None, Query(description="批次 / batch id", max_length=8)] = None,
) -> list[dict[str, object]]:
    """省公司匹配记录 / The matchings kept, newest first."""
    return list_matches(settings, batch_id=batch)


@router.get(
    "/province/matches/{match_id}",
    response_model=ProvinceMatchPublic,
    dependencies=[require("province.read")],
)
def read_match(settings: SettingsDep, match_id: MatchId) -> dict[str, object]:
    """一次省公司匹配 / One matching: its figures and files."""
    return get_match(settings, match_id)


@router.get(
    "/province/matches/{match_id}/files/{name}",
    response_class=FileResponse,
    dependencies=[require("province.read")],
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(
    settings: SettingsDep,
    match_id: MatchId,
    name: Annotated[str, Path(description="文件名 / file name", max_length=120)],
) -> FileResponse:
    """下载匹配结果 / Download a file of a matching (a city's result, the summary, JSON)."""
    path = match_file(settings, match_id, name)
    return FileResponse(path, filename=path.name)
