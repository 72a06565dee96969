"""The demo's people: Weihai's units (the city company and three county companies, from
weihai.md) and one demo user per role, with demo passwords printed by `gridsupply demo`.
Generated for the demo; nobody real."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from supply.auth.units import set_unit
from supply.auth.users import add_user

UNITS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("weihai", "国网威海供电公司(市区)", ("huancui", "gaoqu", "jingqu", "lingang")),
    ("wendeng", "国网威海市文登区供电公司", ("wendeng", "nanhai")),
    ("rongcheng", "国网荣成市供电公司", ("rongcheng", "shidao")),
    ("rushan", "国网乳山市供电公司", ("rushan",)),
)

# login, display name, roles, unit
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("admin", "系统管理员", ("admin",), None),
    ("planner", "物资部 李计划", ("planner",), "weihai"),
    ("pm.weihai", "项目经理 王市区", ("project_manager",), "weihai"),
    ("pm.wendeng", "项目经理 张文登", ("project_manager",), "wendeng"),
    ("development", "发展部 赵发展", ("development",), "weihai"),
    ("marketing", "营销部 孙营销", ("marketing",), "weihai"),
    ("viewer", "公司领导 周只读", ("viewer",), "weihai"),
    ("province", "省公司物资部 钱匹配", ("province_planner",), None),
)


def demo_password(login: str) -> str:
    """The demo password of a demo user (a demo database only: change them for real use)."""
    return f"{login}-demo-2026"


def load_people(session: Session, *, now: datetime, by: str) -> None:
    """Add the units and the demo users (and commit)."""
    for code, name, locations in UNITS:
        set_unit(session, code=code, name=name, locations=locations, by=by, now=now)
    session.commit()
    for login, display_name, roles, unit in DEMO_USERS:
        add_user(
            session, login=login, display_name=display_name, roles=roles, unit=unit,
            password=demo_password(login), by=by, now=now,
        )  # fmt: skip
