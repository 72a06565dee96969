"""The recommendation as a draft quota catalog workbook, in the `quotas` import format.

Sheet 储备定额 holds the import's columns — 年度, 仓库编码, 物料编码, 物料名称, 单位, 储备定额 (the
recommended quota) — so the file goes through `gridsupply catalogs import quotas` (or the 导入
page) into the year's draft and on to marketing's confirmation. The columns after them are for
the reader and the import ignores them (it lists them as ignored): the current quota, the
short-deadline demand seen, the replenishment lead time, the share of lines on time in the
replay with each quota, the value at quota, the reason. Sheet 重放对比 compares the two replays.

Pure: a recommendation in, bytes out (through the one export writer, `supply.core.sheets`).
"""

from __future__ import annotations

from decimal import Decimal

from supply.core.sheets import Column, Sheet, write_xlsx
from supply.quotas.models import RecommendationDetail

QUOTA_SHEET = "储备定额"  # the sheet the quotas import reads (catalogs.columns.SPECS)
COLUMNS = (
    Column("年度", "int", note="year"),
    Column("仓库编码", note="warehouse_id"),
    Column("物料编码", note="material_code"),
    Column("物料名称", note="material_name (optional / 选填)"),
    Column("单位", note="unit (optional / 选填)"),
    Column("储备定额", "int", note="quota: the recommended one"),
    Column("现行定额", "int", note="current quota (not imported)"),
    Column("短工期需求行", "int", note="short-deadline lines seen (not imported)"),
    Column("需求数量", "int", note="their quantity, base units (not imported)"),
    Column("补库周期天数", "int", note="replenishment lead time, days (not imported)"),
    Column("现行定额按时率%", "number", note="on time in the replay, current (not imported)"),
    Column("推荐定额按时率%", "number", note="on time in the replay, recommended (not imported)"),
    Column("现行定额金额", "money", note="current quota × price, CNY (not imported)"),
    Column("推荐定额金额", "money", note="recommended × price, CNY (not imported)"),
    Column("说明", note="reason (not imported)"),
)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def recommendation_workbook(done: RecommendationDetail) -> bytes:
    """Write the recommendation as a draft quota catalog workbook with its replay's figures."""
    rows = [
        [
            done.year,
            line.warehouse_id,
            line.material_code,
            line.material_name,
            line.unit,
            line.recommended,
            line.current,
            line.lines,
            line.quantity,
            line.lead_days,
            _percent(line.on_time_current),
            _percent(line.on_time_recommended),
            line.unit_price * line.current,
            line.unit_price * line.recommended,
            line.reason,
        ]
        for line in done.lines
    ]
    quotas = Sheet(
        name=QUOTA_SHEET,
        columns=COLUMNS,
        rows=rows,  # no totals row: the import would read it as a line
        header_fill="#DDEBF7",
        widths={1: 12, 2: 18, 3: 30, 10: 14, 11: 14, 12: 16, 13: 16, 14: 60},
    )
    return write_xlsx([quotas, _comparison(done)])


def _comparison(done: RecommendationDetail) -> Sheet:
    """Sheet 重放对比: the two replays side by side, and what was asked."""
    level = f"{(Decimal(repr(done.service_level)) * 100).normalize():f} %"

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f} %"

    rows: list[list[object]] = [
        [
            "短工期需求行按时率 / short-deadline lines on time",
            rate(done.on_time_rate_current),
            rate(done.on_time_rate_recommended),
            f"目标 {level}；{done.short_lines:,} 行（5/8/15 个工作日，10 千伏及以下）",
        ],
        [
            "平均库存金额（元） / average stock value, CNY",
            _money(done.stock_value_current),
            _money(done.stock_value_recommended),
            "逐日库存金额的平均 / the daily stock value, averaged over the year",
        ],
        [
            "定额金额（元） / value at quota, CNY",
            _money(done.quota_value_current),
            _money(done.quota_value_recommended),
            "定额 × 标准单价 / quota × standard price",
        ],
        [
            "其余需求行按时率 / the batches' other lines on time",
            rate(done.other_on_time_rate_current),
            rate(done.other_on_time_rate_recommended),
            f"{done.other_lines:,} 行（10 千伏及以上，进周计划）；定额只按短工期需求测算",
        ],
        [
            "定额目录年度 / year",
            str(done.year),
            str(done.year),
            "导入后进入该年度草稿，营销部确认后生效",
        ],
        ["对照的现行目录 / compared with", done.catalog, "推荐", ""],
        [
            "需求窗口 / window",
            f"{done.first_batch} – {done.last_batch}",
            f"{done.first_batch} – {done.last_batch}",
            "近 12 个月的 52 个周批次 / the last 52 weekly batches",
        ],
        ["生成 / made", f"{done.created_at:%Y-%m-%d %H:%M} UTC", done.created_by, f"#{done.id}"],
    ]
    return Sheet(
        name="重放对比",
        columns=(
            Column("指标", note="figure"),
            Column("现行定额", note="current quotas"),
            Column("推荐定额", note="recommended quotas"),
            Column("说明", note="notes"),
        ),
        rows=rows,
        widths={0: 44, 1: 22, 2: 22, 3: 60},
    )


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"
