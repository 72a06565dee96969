"""The permission table in docs/security.md is the one in code, cell for cell."""

from __future__ import annotations

import re
from pathlib import Path

from supply.auth.roles import ROLE_PERMISSIONS, Permission, Role, permissions_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_documented_permission_table_is_the_code_s() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- roles table: generated from supply/auth/roles.py -->")[1]
    block = block.split("<!-- end roles table -->")[0].strip().splitlines()
    roles = re.findall(r"`(\w+)`", block[0])
    assert roles == [r.value for r in Role]
    documented = {}
    for row in block[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        permission = cells[0].strip("`")
        documented[permission] = {r for r, cell in zip(roles, cells[1:], strict=True) if cell}
    assert documented.keys() == {p.value for p in Permission}
    for role in Role:
        granted = {p for p, holders in documented.items() if role.value in holders}
        assert granted == {p.value for p in ROLE_PERMISSIONS[role]}, role


def test_roles_grant_together_what_each_grants() -> None:
    both = permissions_of(["marketing", "development"])
    assert both == ROLE_PERMISSIONS[Role.MARKETING] | ROLE_PERMISSIONS[Role.DEVELOPMENT]
    assert permissions_of(["nobody"]) == frozenset()
    assert Permission.PLANS_APPROVE not in permissions_of(["viewer"])
