"""The province's central matching (省公司集中匹配) over HTTP: upload the cities' plans, the
provincial agreements and the transport days; read the figures; download the results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.deps import ClockDep, SessionDep, SettingsDep, UserDep, require
from supply.province.matching import Upload
from supply.province.service import (
    MATCH_ID_PATTERN,
    get_match,
    list_matches,
    match_file,
    match_in_background,
)

router = APIRouter(tags=["province"])
MatchId = Annotated[str, Path(description="匹配编号 / matching id", pattern=MATCH_ID_PATTERN)]


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


class Totals(BaseModel):
    lines: int
    quantity: int
    matched: int
    on_time: int
    late: int
    unmet_lines: int
    unmet_quantity: int
    amount: str = Field(description="金额(元) / amount matched, CNY to the fen")


class SupplierFigures(BaseModel):
    supplier: str = Field(description="供应商 / supplier")
    lines: int = Field(description="协议行数 / agreement lines")
    serving: int = Field(description="可下单行数 / lines that could take orders")
    matched: int = Field(description="本周匹配数量 / quantity matched this week")
    amount: str = Field(description="本周金额(元) / amount, CNY to the fen")
    at_risk: int = Field(description="有风险的协议行 / lines at risk")


class AgreementRisk(BaseModel):
    agreement_no: str
    line_no: int
    supplier: str
    material: str
    site: str = Field(description="交货地点 / delivery site")
    estimated: int = Field(description="预估数量 / estimated quantity")
    ordered_after: int = Field(description="匹配后已下单 / ordered after this matching")
    execution_pct: str | None = Field(description="执行率(%) / executed share of the estimate")
    band_low_pct: int
    band_high_pct: int
    valid_to: str = Field(description="有效期止 / valid to")
    risk: str = Field(description="风险 / the risk, in Chinese")


class ProvinceMatchPublic(BaseModel):
    id: str
    state: str = Field(description="matching 匹配中 / done 已完成 / failed 失败")
    state_zh: str
    message: str = Field(description="失败原因 / why it failed")
    batch: str
    match_day: str = Field(description="省公司匹配日 / the matching day (orders placed)")
    city_names: list[str] = Field(description="提交的地市 / the cities whose plans were sent")
    inputs: list[str] = Field(description="提交的文件 / the files sent")
    created_by: str
    created_at: str
    finished_at: str | None
    seconds: dict[str, float] = Field(description="匹配与写出用时(秒) / seconds by step")
    agreement_lines: int
    status: str | None = Field(None, description="求解状态 / the engine's status, once done")
    objective: Objective | None = None
    agreement_lines_serving: int | None = Field(
        None, description="可下单的协议行 / lines that took orders"
    )
    at_risk: int | None = Field(None, description="有风险的协议行 / agreement lines at risk")
    cities: list[CityFigures] = Field(default_factory=list, description="按地市, once done")
    totals: Totals | None = Field(None, description="全省合计 / the province's totals, once done")
    suppliers: list[SupplierFigures] = Field(default_factory=list, description="按供应商")
    risks: list[AgreementRisk] = Field(
        default_factory=list, description="有风险的协议行(至多 200) / lines at risk, up to 200"
    )
    files: list[str] = Field(default_factory=list, description="结果文件 / files, once done")


def _upload(file: UploadFile, limit: int) -> Upload:
    return Upload(file.filename or "upload.xlsx", file.file.read(limit + 1))


@router.post(
    "/province/matches",
    response_model=ProvinceMatchPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[require("province.match")],
    responses={409: {"description": "另一次省公司匹配正在进行 / another matching is in progress"}},
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

    Every file is checked in the request: any problem (named by file, sheet, row and column)
    refuses the lot (422) and nothing is kept. Then answers at once (202) with the matching
    `matching` (audited); it is matched and written in the background, in seconds: `GET …/{id}`
    then says `done`, with its figures and the files to download (or `failed`, with the reason).
    One matching at a time (409 meanwhile)."""
    limit = settings.max_upload_bytes
    return match_in_background(
        engine=session.get_bind(),  # type: ignore[arg-type]
        batch_id=batch,
        agreements=_upload(agreements, limit),
        transport=_upload(transport, limit),
        cities=[_upload(c, limit) for c in cities],
        settings=settings,
        user=user,
        clock=clock.now,
    )


@router.get(
    "/province/matches",
    response_model=list[ProvinceMatchPublic],
    dependencies=[require("province.read")],
)
def read_matches(
    settings: SettingsDep,
    clock: ClockDep,
    batch: Annotated[str | None, Query(description="批次 / batch id", max_length=8)] = None,
) -> list[dict[str, object]]:
    """省公司匹配记录 / The matchings kept, newest first."""
    return list_matches(settings, batch_id=batch, now=clock.now())


@router.get(
    "/province/matches/{match_id}",
    response_model=ProvinceMatchPublic,
    dependencies=[require("province.read")],
)
def read_match(settings: SettingsDep, clock: ClockDep, match_id: MatchId) -> dict[str, object]:
    """一次省公司匹配 / One matching: matching, done (with its figures and files) or failed."""
    return get_match(settings, match_id, now=clock.now())


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
