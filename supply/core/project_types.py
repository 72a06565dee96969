"""The project types of the founding document, section 15(2): what a build deadline is counted
for. Here, at the bottom, so that the settings can name them (`GRIDSUPPLY_INSTALL_WORKING_DAYS`);
`supply.policy` holds the deadlines themselves."""

from __future__ import annotations

from enum import StrEnum


class ProjectType(StrEnum):
    """The project types of the founding document, section 15(2)."""

    lv_extension = "lv_extension"  # 表前线 / 低压分支线延伸
    area_capacity_increase = "area_capacity_increase"  # 增容台区
    area_new = "area_new"  # 新建台区
    mv_10kv = "mv_10kv"  # 10 kV 工程
    mv_10kv_civil = "mv_10kv_civil"  # 10 kV 有土建工程
    hv_35kv = "hv_35kv"  # 35 kV
    hv_110kv = "hv_110kv"  # 110 kV
