"""A throwaway PostgreSQL server from Debian's ``postgresql`` package, for tests and benchmarks.

``.ci/run`` starts one itself and names it in ``DIGITCORE_TEST_PG_URL``; a plain ``pytest`` (and
``benchmarks/cluster.py``) starts one with :class:`PostgresServer`: a new cluster (``initdb``)
in a temporary folder, listening on 127.0.0.1 on a free port only, owned and run by the
``postgres`` user when we are root (PostgreSQL refuses to run as root), stopped and deleted on
:meth:`PostgresServer.stop`.

    with PostgresServer() as server:
        url = server.create_database("drawings")  # postgresql+psycopg://postgres@127.0.0.1:PORT/drawings
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

#: Where Debian puts the server programs (initdb and pg_ctl are not on PATH there).
DEBIAN_BINS = "/usr/lib/postgresql/*/bin"
#: Settings for a server whose data is thrown away: durability costs time and buys nothing here.
THROWAWAY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def server_bin(name: str) -> str:
    """The path of a PostgreSQL server program: on PATH, else Debian's newest version."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)  # fmt: skip
    if not versions:
        raise FileNotFoundError(
            f"{name}: PostgreSQL's server programs are not installed (Debian: apt-get install "
            f"postgresql; looked on PATH and in {DEBIAN_BINS})"
        )
    return str(versions[-1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, on 127.0.0.1, trusted for local users."""

    def __init__(self, *, port: int | None = None, max_connections: int = 200):
        self.port = port or free_port()
        self.max_connections = max_connections
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.folder: Path | None = None

    @property
    def url(self) -> str:
        """The server's maintenance database as an SQLAlchemy URL (psycopg 3)."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        # As root, run as postgres (user= needs root; otherwise we already are the owner).
        as_user = {"user": self.user} if os.geteuid() == 0 else {}
        subprocess.run(args, check=True, capture_output=True, text=True, **as_user)

    def start(self) -> PostgresServer:
        """initdb a new cluster and start it; returns self once it accepts connections."""
        self.folder = Path(tempfile.mkdtemp(prefix="digitcore-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, self.user, self.user)
        data = self.folder / "data"
        try:
            self._run(server_bin("initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
                      "--encoding=UTF8", "--no-sync")  # fmt: skip
            options = [f"-c {k}={v}" for k, v in THROWAWAY.items()]
            options += [f"-c max_connections={self.max_connections}", f"-p {self.port}",
                        "-c listen_addresses=127.0.0.1", f"-k {self.folder}"]  # fmt: skip
            self._run(server_bin("pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"),
                      "-o", " ".join(options), "-w", "-t", "60", "start")  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.folder / "log"
            detail = log.read_text()[-2000:] if log.is_file() else ""
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}{detail}") from None
        return self

    def stop(self) -> None:
        """Stop the server (fast: sessions are cut) and delete its folder."""
        if self.folder is None:
            return
        data = self.folder / "data"
        if (data / "postmaster.pid").is_file():
            self._run(server_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def libpq_url(url: str) -> str:
    """An SQLAlchemy URL (``postgresql+psycopg://...``) as libpq takes it (``postgresql://...``)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server ``server_url`` names; return its URL."""
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name``, cutting any session still on it (engines a test did not dispose)."""
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
