"""PostgreSQL: pg_dump (custom format) in a snapshot of its own, pg_restore in one transaction;
the client tools of the server's major version."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from supply.core.backup.common import (
    BackupFailed,
    BackupRefused,
    Contents,
    engine_for,
    refuse_not_empty,
)
from supply.core.db import describe_url

PG_DUMP_MAGIC = b"PGDMP"  # the first bytes of a pg_dump archive (custom format)
# Where distributions put each major version's client tools, besides PATH.
PG_TOOL_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")


@dataclass(frozen=True)
class Client:
    """A PostgreSQL client tool (pg_dump, pg_restore) and its version."""

    path: Path
    major: int
    version: str

    def __str__(self) -> str:
        return f"{self.path.name} {self.version} ({self.path})"


def find_client(tool: str, server_major: int, *, bin_dir: str = "") -> Client:
    """The client `tool` (pg_dump, pg_restore) to use with a server of `server_major`: the
    server's own major version, else the nearest newer one (an older pg_dump refuses a newer
    server). Looked for in `bin_dir` only when given; else on PATH and in the distributions'
    folders (`PG_TOOL_DIRS`). Raises `BackupRefused` naming the package to install."""
    if bin_dir:
        paths = [Path(bin_dir).expanduser() / tool]
        where = str(Path(bin_dir).expanduser())
    else:
        on_path = shutil.which(tool)
        paths = [Path(on_path)] if on_path else []
        for pattern in PG_TOOL_DIRS:
            paths += [Path(p) for p in sorted(glob.glob(f"{pattern}/{tool}"))]
        where = "PATH, " + ", ".join(PG_TOOL_DIRS)
    found = [c for c in (_client(p) for p in paths) if c is not None]
    usable = sorted((c for c in found if c.major >= server_major), key=lambda c: c.major)
    if usable:
        return usable[0]
    install = (
        f"install the PostgreSQL {server_major} client tools (Debian/Ubuntu: apt-get install "
        f"postgresql-client-{server_major}; RHEL: dnf install postgresql{server_major}) or point "
        "GRIDSUPPLY_PG_BIN_DIR at their folder"
    )
    if found:
        newest = max(found, key=lambda c: c.major)
        raise BackupRefused(
            f"{tool} 版本过旧 / {newest} cannot work with the PostgreSQL {server_major} server "
            f"(a client older than the server refuses it): {install}"
        )
    raise BackupRefused(f"找不到 {tool} / {tool} is not installed (looked in {where}): {install}")


def _client(path: Path) -> Client | None:
    if not (path.is_file() and os.access(path, os.X_OK)):
        return None
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", done.stdout)
    if done.returncode != 0 or not found:
        return None
    return Client(path=path, major=int(found.group(1)), version=found.group(0).split()[-1])


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The connection string a client tool takes, and its environment (the password stays out
    of the command line, which other users of the machine can read)."""
    parsed = make_url(url)
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, environment


def _server_major(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10_000


def _pg_tables(connection: Connection) -> list[str]:
    found = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    )
    return list(found.scalars())


def _pg_contents(connection: Connection) -> Contents:
    names = _pg_tables(connection)
    rows = {n: int(connection.exec_driver_sql(f'SELECT count(*) FROM "{n}"').scalar_one()) for n in names}  # fmt: skip
    revision = None
    if "alembic_version" in rows:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return Contents(rows=rows, revision=revision)


def _run(command: Sequence[str], environment: dict[str, str], what: str) -> str:
    done = subprocess.run(
        list(command), capture_output=True, text=True, env=environment, check=False
    )
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupFailed(f"{what} failed (exit {done.returncode}): {said[0] if said else ''}")
    return done.stdout


def backup_postgres(url: str, partial: Path, bin_dir: str) -> tuple[Contents, str, Client]:
    """Dump the database at `url` into `partial` in a snapshot whose rows are counted; list the
    dump to check it; return what it holds, the check, and the pg_dump that made it."""
    uri, environment = _libpq(url)
    with engine_for(url) as engine, engine.connect() as base:
        connection = base.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            client = find_client("pg_dump", _server_major(connection), bin_dir=bin_dir)
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            contents = _pg_contents(connection)
            _run(
                [str(client.path), "--format=custom", f"--snapshot={snapshot}", "--no-password",
                 f"--file={partial}", f"--dbname={uri}"],
                environment, str(client),
            )  # fmt: skip
    lister = find_client("pg_restore", client.major, bin_dir=bin_dir)
    listed = _listed_tables(lister, partial, environment)
    missing = sorted(set(contents.rows) - listed)
    if missing:
        raise BackupFailed(f"备份校验失败 / the dump lacks the data of {', '.join(missing)}")
    return contents, f"pg_restore --list: the data of all {contents.tables} tables", client


def _listed_tables(lister: Client, path: Path, environment: dict[str, str]) -> set[str]:
    """The tables whose data a pg_dump archive holds (by `pg_restore --list`)."""
    listing = _run([str(lister.path), "--list", str(path)], environment, str(lister))
    found = re.findall(r"^\d+; \d+ \d+ TABLE DATA \S+ (\S+) ", listing, re.MULTILINE)
    return set(found)


def restore_postgres(url: str, source: Path, bin_dir: str) -> tuple[Contents, Client]:
    """Restore the dump `source` into the empty database at `url`, in one transaction."""
    uri, environment = _libpq(url)
    with engine_for(url) as engine:
        with engine.connect() as connection:
            major = _server_major(connection)
            existing = connection.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN "
                    "('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
        refuse_not_empty(describe_url(url), int(existing))
        client = find_client("pg_restore", major, bin_dir=bin_dir)
        try:
            listed = _listed_tables(client, source, environment)
        except BackupFailed as exc:
            raise BackupRefused(f"{source} 无法读取 / {source} cannot be read: {exc}") from None
        if "alembic_version" not in listed:
            raise BackupRefused(
                f"{source} 不是 gridsupply 备份 / {source} is a pg_dump archive but not of a "
                "gridsupply database (it has no schema revision)"
            )
        _run(
            [str(client.path), "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", "--no-password", f"--dbname={uri}", str(source)],
            environment, str(client),
        )  # fmt: skip
        with engine.connect() as connection:
            return _pg_contents(connection), client
