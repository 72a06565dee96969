"""The projects a list shows (its filters, its order), as one Excel sheet — what a project
manager or planner sees on the page is what they download. (The project *workbook*, in the
format imports read, is `supply.projects.importing.export_projects`.)"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from supply.core.sheets import Column, Sheet, write_xlsx
from supply.labels import project_type_label
from supply.projects.models import PROJECT_STATUS_ZH, ProjectPublic, ProjectStatus

COLUMNS = (
    Column("项目编号 / project"),
    Column("项目名称 / name"),
    Column("工程类型 / type"),
    Column("地点 / location"),
    Column("单位 / unit"),
    Column("客户 / customer"),
    Column("审批日期 / approved on", "date"),
    Column("物资需到货日期 / materials need-by", "date"),
    Column("建设期限 / build deadline", "date"),
    Column("状态 / status"),
    Column("供应风险 / supply at risk"),
)


def projects_workbook(projects: Sequence[ProjectPublic], at_risk: Collection[str]) -> bytes:
    """The projects as 项目清单, one row each; `at_risk` names those marked 有风险."""
    rows = [
        (
            p.id,
            p.name,
            project_type_label(p.project_type),
            p.location,
            p.unit,
            p.customer,
            p.approved_on,
            p.need_by,
            p.deadline,
            PROJECT_STATUS_ZH.get(ProjectStatus(p.status), p.status),
            "有风险" if p.id in at_risk else "",
        )
        for p in projects
    ]
    return write_xlsx([Sheet("项目清单", COLUMNS, rows)])
