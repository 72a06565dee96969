"""`gridsupply users …` and `gridsupply audit`: users and their roles, service accounts' API
tokens, and the audit trail, for an administrator on the server (the command line has the
database itself: whoever runs it is trusted, and named as the operator with --as or
GRIDSUPPLY_USER). The first administrator is made here:

    gridsupply users add admin --role admin --password-stdin
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from api.commands.db import cli_session, cli_user
from api.commands.render import fail, out, titled_table

users_app = typer.Typer(
    help="用户与角色 / users, roles and API tokens (an administrator's tool).",
    no_args_is_help=True,
)
As = Annotated[
    str | None,
    typer.Option("--as", help="操作人 / who is acting (default: GRIDSUPPLY_USER, else you)"),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入读取密码 / read the password from stdin")
]


def _now() -> datetime:
    from api.commands.environment import cli_clock

    return cli_clock().now()


def _password(from_stdin: bool) -> str:
    if not from_stdin:
        fail("give the password on standard input with --password-stdin", 2)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("没有读到密码 / no password on standard input", 2)
    return password


@users_app.command("add")
def add(
    login: Annotated[str, typer.Argument(help="登录名 / login name")],
    role: Annotated[list[str], typer.Option("--role", help="角色, 可多次 / role (repeatable)")],
    unit: Annotated[str | None, typer.Option(help="单位 / unit code")] = None,
    name: Annotated[str, typer.Option("--name", help="姓名 / display name")] = "",
    service: Annotated[
        bool, typer.Option("--service", help="服务账号(无密码, 用 API 令牌) / a service account")
    ] = False,
    password_stdin: PasswordStdin = False,
    by: As = None,
) -> None:
    """Add a user with roles (a person reads a password from stdin) or a service account."""
    from supply.auth.users import add_user

    password = None if service else _password(password_stdin)
    with cli_session() as session:
        user = add_user(
            session, login=login, display_name=name, roles=role, unit=unit, password=password,
            kind="service" if service else "person", by=cli_user(by), now=_now(),
        )  # fmt: skip
    out.print(f"added {user.login} ({user.kind}): roles {', '.join(user.roles)}")


@users_app.command("list")
def list_command() -> None:
    """List users and service accounts with their roles."""
    from supply.auth.roles import ROLE_ZH, Role
    from supply.auth.users import list_users

    with cli_session() as session:
        page = list_users(session, offset=0, limit=1000)
    table = titled_table(
        f"用户 / users ({page.total})",
        [("登录名 / login", "left"), ("姓名 / name", "left"), ("单位 / unit", "left"),
         ("角色 / roles", "left"), ("状态 / state", "left")],
    )  # fmt: skip
    for u in page.items:
        roles = ", ".join(f"{ROLE_ZH[Role(r)]} {r}" for r in u.roles)
        state = "启用 active" if u.active else "停用 disabled"
        table.add_row(u.login, u.display_name, u.unit or "-", roles, f"{state} ({u.kind})")
    out.print(table)


@users_app.command("roles")
def roles(
    login: Annotated[str, typer.Argument(help="登录名 / login name")],
    add: Annotated[list[str] | None, typer.Option("--add", help="增加角色 / add a role")] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="移除角色 / remove a role")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="单位 / set the unit ('' clears)")] = None,
    by: As = None,
) -> None:
    """Add or remove a user's roles (and set their unit)."""
    from supply.auth.users import change_user

    with cli_session() as session:
        user = change_user(
            session, login, by=cli_user(by), now=_now(), add_roles=add or (),
            remove_roles=remove or (), unit=unit,
        )  # fmt: skip
    out.print(f"{user.login}: roles {', '.join(user.roles)}; unit {user.unit or '-'}")


@users_app.command("email")
def email_command(
    login: Annotated[str, typer.Argument(help="登录名 / login name")],
    address: Annotated[str, typer.Argument(help="电子邮箱, '' 清除 / e-mail address ('' clears)")],
    by: As = None,
) -> None:
    """Set where a user's reminders are e-mailed (when GRIDSUPPLY_SMTP_HOST is set)."""
    from supply.auth.users import change_user

    with cli_session() as session:
        change_user(session, login, by=cli_user(by), now=_now(), email=address)
    out.print(f"{login}: e-mail {address.strip() or '-'}", highlight=False)


def _set_active(login: str, active: bool, by: str | None) -> None:
    from supply.auth.users import change_user

    with cli_session() as session:
        user = change_user(session, login, by=cli_user(by), now=_now(), active=active)
    out.print(f"{user.login}: {'enabled' if user.active else 'disabled'}")


@users_app.command("disable")
def disable(login: Annotated[str, typer.Argument(help="登录名 / login")], by: As = None) -> None:
    """Disable a user: sign-in refused, their tokens stop working within a minute."""
    _set_active(login, False, by)


@users_app.command("enable")
def enable(login: Annotated[str, typer.Argument(help="登录名 / login")], by: As = None) -> None:
    """Enable a disabled user again."""
    _set_active(login, True, by)


@users_app.command("reset-password")
def reset_password_command(
    login: Annotated[str, typer.Argument(help="登录名 / login")],
    password_stdin: PasswordStdin = False,
    by: As = None,
) -> None:
    """Give a user a new password (read from stdin)."""
    from supply.auth.users import reset_password

    password = _password(password_stdin)
    with cli_session() as session:
        reset_password(session, login, password, by=cli_user(by), now=_now())
    out.print(f"{login}: password changed")


@users_app.command("token")
def token(
    login: Annotated[str, typer.Argument(help="服务账号 / service account login")],
    scope: Annotated[list[str], typer.Option("--scope", help="权限, 可多次 / permission")],
    name: Annotated[str, typer.Option(help="用途 / what it is for")] = "api",
    by: As = None,
) -> None:
    """Issue an API token to a service account; it is printed this once."""
    from supply.auth.users import issue_api_token

    with cli_session() as session:
        issued = issue_api_token(
            session, login, name=name, scopes=scope, by=cli_user(by), now=_now()
        )
    out.print(f"token {issued.id} for {login} ({', '.join(issued.scopes)}):")
    print(issued.token)


@users_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="令牌编号 / token id")], by: As = None
) -> None:
    """Revoke an API token."""
    from supply.auth.users import revoke_api_token

    with cli_session() as session:
        revoke_api_token(session, token_id, by=cli_user(by), now=_now())
    out.print(f"token {token_id} revoked")


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    from supply.core.clock import SHANGHAI

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since/--until: 不是日期或时刻 / not a date or moment: {text!r}", 2)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def audit(
    object_: Annotated[
        str | None,
        typer.Option("--object", help="对象 TYPE 或 TYPE:ID / object type, or type:id"),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="操作人 / who")] = None,
    action: Annotated[str | None, typer.Option(help="动作(如 plan.) / action or prefix")] = None,
    since: Annotated[
        str | None, typer.Option(help="起始 / from (YYYY-MM-DD or ISO moment, Beijing time)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="截止 / before")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="显示行数 / rows shown")] = 50,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="导出 Excel / write an .xlsx here")
    ] = None,
) -> None:
    """审计日志 / Show the audit trail, newest first (or export it to Excel)."""
    from supply.audit.queries import AuditFilter, export_events, list_events
    from supply.core.clock import SHANGHAI

    kind, _, ident = (object_ or "").partition(":")
    where = AuditFilter(user, action, kind or None, ident or None, _moment(since), _moment(until))
    with cli_session() as session:
        if output is not None:
            output.write_bytes(export_events(session, where))
            out.print(f"wrote {output}")
            return
        page = list_events(session, where, offset=0, limit=limit)
    table = titled_table(
        f"审计日志 / audit ({page.total})",
        [("时间 / at", "left"), ("操作人 / who", "left"), ("动作 / action", "left"),
         ("对象 / object", "left"), ("变更 / change", "left")],
    )  # fmt: skip
    for e in page.items:
        change = f"{e.before or ''} → {e.after or ''}" if e.before else str(e.after or "")
        table.add_row(
            e.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
            f"{e.object_type}:{e.object_id}", change[:120],
        )  # fmt: skip
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the users and audit commands to the app."""
    app.add_typer(users_app, name="users")
    app.command("audit")(audit)
