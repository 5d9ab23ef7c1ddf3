"""The audit store's database: its URL, opening and migrating it, its connections.

``Database(url)`` opens (and migrates) a SQLite file or a PostgreSQL database. It is the
base of ``AuditStore``; the writer, reads, retention and verify take it for their
connections. SQLite is tuned here (write-ahead log, a lock taken at ``BEGIN IMMEDIATE`` by
writers, purged data overwritten) and a new store file is readable by its owner only.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from screening.audit import schema as t
from screening.audit.chain import GENESIS_LINK, KEY_ENV
from screening.errors import UserError

DATABASE_ENV = "SCREENING_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///screening-audit.db"
#: the newest migration; a store already at it is opened without loading Alembic
SCHEMA_HEAD = "0002"
#: Alembic's own table, as its migrations create it: the revision a database is at
_ALEMBIC_VERSION = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def database_url() -> str:
    """The audit database: ``SCREENING_DATABASE_URL``, else screening-audit.db here."""
    return os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


class AuditError(UserError):
    """A problem the user can fix (bad run id, missing key, unreachable database ...)."""


class Database:
    """The store's database: opened, migrated, and the connections to read and write it.

    ``AuditStore`` is one; the writer, reads, retention and verify take it.
    """

    def __init__(
        self, url: str | None = None, *, key: str | bytes | None = None, create: bool = True
    ) -> None:
        """Open (creating and migrating as needed) the store at ``url``.

        ``key`` (else ``SCREENING_AUDIT_KEY``) makes every link an HMAC. With
        ``create=False`` a store that does not exist, or a database that is not an audit
        store, is an :class:`AuditError` and nothing is created.
        """
        self.url = url or database_url()
        raw_key = key if key is not None else os.environ.get(KEY_ENV) or None
        #: the HMAC key of the chain's links (None: plain SHA-256 links)
        self.key = raw_key.encode("utf-8") if isinstance(raw_key, str) else raw_key
        try:
            self.engine: Engine = _make_engine(self.url, create=create)
        except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
            raise AuditError(
                f"audit database URL {self.url!r} is not usable ({exc}); set {DATABASE_ENV} to "
                "e.g. sqlite:///screening-audit.db or postgresql+psycopg2://user@host/db"
            ) from exc
        self.postgres = self.engine.dialect.name == "postgresql"
        if not create:
            self._require_existing()
        self._migrate()

    def _require_existing(self) -> None:
        where = self.engine.url.render_as_string()
        database = self.engine.url.database
        on_disk = self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        if on_disk and not os.path.isfile(str(database)):
            self.engine.dispose()
            raise AuditError(
                f"there is no audit store at {database}: nothing to verify; check "
                f"--database or {DATABASE_ENV}"
            )
        try:
            with self.engine.connect() as conn:
                inspector = sa.inspect(conn)
                ours = inspector.has_table("alembic_version") and inspector.has_table(
                    t.chain_head.name
                )
        except sa.exc.OperationalError as exc:
            raise self.connect_error(exc) from exc
        except sa.exc.DBAPIError as exc:  # e.g. SQLite: "file is not a database"
            self.engine.dispose()
            reason = str(exc.orig).strip().splitlines()
            raise AuditError(
                f"{where} is not an audit store ({reason[0] if reason else 'unreadable'})"
            ) from None
        if not ours:
            self.engine.dispose()
            raise AuditError(
                f"{where} is not an audit store (it has no audit chain tables); check "
                f"--database or {DATABASE_ENV}"
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def connect_error(self, exc: Exception) -> AuditError:
        """A failure to reach the database, said as what to check."""
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return AuditError(
            f"cannot use the audit database {self.engine.url.render_as_string()}: {reason}; "
            f"check {DATABASE_ENV} and that the database server is running"
        )

    def _migrate(self) -> None:
        if self._schema_current() or self._create_at_head():
            return
        # Alembic (and Mako under it) load only for a store at an older revision, or a
        # database that holds other tables
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("screening.audit") / "migrations")
        )
        try:
            with self.write_transaction() as conn:
                if self.postgres:
                    # one migrator at a time; the others wait, then find the schema current
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7616004)"))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            raise self.connect_error(exc) from exc

    def _create_at_head(self) -> bool:
        """Create the schema at its newest revision in an empty database, as the
        migrations would leave it (their tables, the chain head row, Alembic's version
        row), without loading Alembic: a new store costs a screening run no more than
        its tables. A database that holds tables is left as it is: True if they are at
        the newest revision (another process made them first), else False (Alembic
        decides)."""
        try:
            with self.write_transaction() as conn:
                if self.postgres:
                    # the same lock as a migration: concurrent first runs create it once
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7616004)"))
                tables = sa.inspect(conn).get_table_names()
                if tables:
                    return self._schema_in(conn) == [(SCHEMA_HEAD,)]
                t.metadata.create_all(conn)
                conn.execute(t.chain_head.insert().values(id=1, seq=0, link=GENESIS_LINK))
                _ALEMBIC_VERSION.create(conn)
                conn.execute(_ALEMBIC_VERSION.insert().values(version_num=SCHEMA_HEAD))
        except sa.exc.OperationalError as exc:
            raise self.connect_error(exc) from exc
        return True

    @staticmethod
    def _schema_in(conn: Connection) -> list[tuple[Any, ...]]:
        if not sa.inspect(conn).has_table("alembic_version"):
            return []
        versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        return [tuple(v) for v in versions]

    def _schema_current(self) -> bool:
        try:
            with self.engine.connect() as conn:
                return self._schema_in(conn) == [(SCHEMA_HEAD,)]
        except sa.exc.OperationalError as exc:
            raise self.connect_error(exc) from exc

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A transaction that may write: on SQLite it takes the write lock at BEGIN."""
        with self.engine.connect() as conn:
            conn.execution_options(audit_write=True)
            with conn.begin():
                yield conn

    def read(self) -> Connection:
        """A connection to read with (a snapshot; it never blocks a writer)."""
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise self.connect_error(exc) from exc

    def insert_many(
        self,
        conn: Connection,
        table: sa.Table,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Bulk insert at the driver level: SQLAlchemy's per-row processing costs more here
        than the database does."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            # COPY: one stream per chunk instead of statements
            buffer = io.StringIO("".join(map(_copy_line, rows)))
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN", buffer)
            finally:
                cursor.close()
        else:
            marks = ", ".join("?" for _ in columns)
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


def _copy_field(value: Any) -> str:
    """One field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()  # bytea in hex, its backslash escaped for COPY
    text = value if isinstance(value, str) else str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_line(row: tuple[Any, ...]) -> str:
    return "\t".join(map(_copy_field, row)) + "\n"


def _make_engine(url: str, *, create: bool = True) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 120})
    in_memory = parsed.database in (None, "", ":memory:")
    if create and not in_memory and parsed.database is not None:
        _create_owner_only(parsed.database)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take transaction control from pysqlite so BEGIN IMMEDIATE below is what runs
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # large pages: far fewer page writes for ~1.5 KB decision rows (a new file only;
        # an existing database keeps the page size it was created with)
        cursor.execute("PRAGMA page_size=32768")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # purged applicant data is overwritten, not left readable in free pages
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # writers take the lock up front, so they queue instead of failing on lock upgrade;
        # readers (verify, reports) read a snapshot and never block a writer
        write = conn.get_execution_options().get("audit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _create_owner_only(database: str) -> None:
    """Create a new SQLite store file readable by its owner only (0600).

    The store holds applicants' names, histories and self-identification. SQLite gives
    the -wal and -shm files it creates later the mode of the database file.
    """
    if database.startswith("file:"):
        return  # a URI filename: SQLite's own options decide
    # an existing store keeps its mode; a missing folder is reported on connecting
    with suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
