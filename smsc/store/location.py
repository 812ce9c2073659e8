"""Where the store is: a ``--db`` value (or the config's ``server.database``) to a Store.

``postgresql://user@host:5432/db`` (or ``postgres://``) opens a :class:`PostgresStore` (several
nodes may share it); anything else is the path of an SQLite file, the default. The PostgreSQL
driver is imported only when such a URL is given, so SQLite needs nothing more installed.
"""

from __future__ import annotations

import importlib
import re
import sqlite3
import sys
from pathlib import Path

from smsc.store.base import Store, StoreError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


def exists(location: str) -> bool:
    """Whether there may be data there already: an SQLite file that exists, or any server."""
    return is_postgres(location) or Path(location).exists()


def shown(location: str) -> str:
    """The location for messages and logs: a URL's password left out."""
    if is_postgres(location):
        return re.sub(r"^(\w+://[^:/@]*):[^@/]*@", r"\1:***@", location)
    return location


def database_errors() -> tuple[type[Exception], ...]:
    """The errors of the database drivers in use: sqlite3's, and psycopg's once a PostgreSQL
    store was opened (for a command line that turns them into a one-line message)."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, psycopg.DatabaseError)


def open_store(location: str, *, synchronous: str = "NORMAL") -> Store:
    """Open the store at ``location``; ``synchronous`` applies to SQLite only. Raises
    StoreError when PostgreSQL is asked for and cannot be reached or psycopg is missing."""
    if not is_postgres(location):
        from smsc.store.sqlite import SqliteStore

        return SqliteStore(location, synchronous=synchronous)
    try:
        module = importlib.import_module("smsc.store.postgres")
    except ImportError as e:
        raise StoreError(f"{shown(location)}: PostgreSQL needs psycopg 3 "
                         f"(pip install 'smsc[postgres]'): {e}") from None
    psycopg = importlib.import_module("psycopg")
    try:
        store: Store = module.PostgresStore(location)
    except psycopg.Error as e:
        raise StoreError(f"{shown(location)}: {str(e).strip()}") from None
    return store
