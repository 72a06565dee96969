"""The planner's words for the codes a plan carries: source kinds, outcomes, project types, and
why a line is late, unmet or bought in an emergency — Chinese first, the code after it.

One table per code family, used by every face (exports, the command line, the API's `*_zh`
fields), so a code reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from supply.policy import PROJECT_TYPE_ZH

KIND_ZH: Mapping[str, str] = {
    "reserve": "实物储备",
    "consignment": "供应商寄存",
    "agreement": "协议库存",
    "emergency": "紧急采购",
    "unmet": "未满足",
}
OUTCOME_ZH: Mapping[str, str] = {"on_time": "按时", "late": "延迟", "unmet": "未满足"}
REPLENISHMENT = "replenishment"

# A weekly run's status.
RUN_STATUS_ZH = {"draft": "草稿", "approved": "已批准", "superseded": "已被取代"}
# Why a line is late or unmet: the optimizer's causes (optimizer.contract), `no_agreement` for
# reserve that no agreement line can replenish (supply.weekly.lines), and `over_limit` for a
# line set aside because its quantity or cost is past the limits (supply.limits).
CAUSE_ZH: Mapping[str, str] = {
    "used_up": "按时来源已被其他需求占用",
    "kept_for_quota": "储备保留至定额(R6)",
    "stock_left": "尚有按时来源未用(非最优计划)",
    "none_in_time": "没有来源能按时到货",
    "not_eligible": "电压等级不可用现有来源(R2)",
    "no_source": "没有任何来源",
    "no_agreement": "无协议库存可补库",
    "over_limit": "数量或金额超出限额",
}
EMERGENCY_CAUSE_ZH: Mapping[str, str] = {
    "listed": "目录外物资(可研已列明)",
    "not_listed": "目录外物资(可研未列明)",
    "kept_for_quota": "储备保留至定额(R6)",
    "stock_late": "储备或寄存到货晚于紧急采购",
    "agreement_late": "协议库存到货晚于紧急采购",
    "unused": "尚有可用来源未用",
    "agreement_exhausted": "协议库存已用完",
    "not_eligible": "35/110千伏不可用储备与寄存",
    "stock_exhausted": "储备与寄存已用完且无协议库存",
}


_PROJECT_TYPES: Mapping[str, str] = {str(k): v for k, v in PROJECT_TYPE_ZH.items()}


def labelled(table: Mapping[str, str], code: str | None) -> str:
    """`中文 (code)` for a known code, the code alone for an unknown one, '' for none."""
    if not code:
        return ""
    zh = table.get(code)
    return f"{zh} ({code})" if zh else code


def kind_label(kind: str) -> str:
    """A source kind in Chinese (实物储备, …)."""
    return KIND_ZH.get(kind, kind)


def project_type_label(code: str) -> str:
    """A project type as `新建台区 (area_new)`; replenishment as `补库 (replenishment)`."""
    if code == REPLENISHMENT:
        return f"补库 ({REPLENISHMENT})"
    return labelled(_PROJECT_TYPES, code)


def cause_label(cause: str | None) -> str:
    """Why a line is late or unmet, in the planner's words."""
    return labelled(CAUSE_ZH, cause)


def emergency_cause_label(cause: str | None) -> str:
    """Why a line goes to emergency procurement, in the planner's words."""
    return labelled(EMERGENCY_CAUSE_ZH, cause)
