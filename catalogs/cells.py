"""Reading the catalogs' own cells: voltage classes and warehouse levels, written as planners do.

The generic readers (numbers, dates, codes, yes/no, units) are in `supply.core.sheets.cells`;
these two need the catalogs' enums. A catalog column uses them as its `reader` (and a warehouse
level its `writer`, so that exports write the level's Chinese name). Pure: no database, no files.
"""

from __future__ import annotations

from catalogs.models import VoltageClass, WarehouseLevel
from supply.core.sheets.cells import CellError, fold, show

_VOLTAGES = {
    VoltageClass.LV: ("0.4kv", "0.4", "400v", "0.38kv", "380v", "低压", "lv"),
    VoltageClass.MV: ("10kv", "10", "中压", "mv"),
    VoltageClass.HV35: ("35kv", "35"),
    VoltageClass.HV110: ("110kv", "110"),
}
_LEVELS = {
    WarehouseLevel.CENTRAL: (
        "central",
        "市级中心库",
        "中心库",
        "市级",
        "city central",
        "城市中心库",
    ),
    WarehouseLevel.COUNTY: ("county", "县级周转库", "周转库", "县级", "县公司周转库"),
    WarehouseLevel.STORAGE_POINT: ("storage_point", "storage point", "仓储点", "储备点"),
}
LEVEL_NAMES: dict[str, str] = {
    WarehouseLevel.CENTRAL: "市级中心库",
    WarehouseLevel.COUNTY: "县级周转库",
    WarehouseLevel.STORAGE_POINT: "仓储点",
}


def read_voltage(value: object) -> str:
    """Read a voltage class: 0.4kV, 10kV, 35kV or 110kV (低压 and 400V are 0.4kV)."""
    text = fold(str(value)).lower().replace(" ", "")
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    for voltage, names in _VOLTAGES.items():
        if text in names:
            return voltage.value
    raise CellError(
        f"电压等级 {show(value)} 应为 0.4kV、10kV、35kV 或 110kV",
        f"voltage class {show(value)!r} must be 0.4kV, 10kV, 35kV or 110kV",
    )


def read_level(value: object) -> str:
    """Read a warehouse level: 市级中心库, 县级周转库, 仓储点 (central, county, storage_point)."""
    text = fold(str(value)).lower()
    for level, names in _LEVELS.items():
        if text in names:
            return level.value
    raise CellError(
        f"仓库级别 {show(value)} 应为 市级中心库、县级周转库 或 仓储点",
        f"warehouse level {show(value)!r} must be central, county or storage_point",
    )


def level_name(level: str) -> str:
    """Return a warehouse level's Chinese name, as exports write it (the code if unknown)."""
    return LEVEL_NAMES.get(level, level)
