"""Real components on loopback for the tests and the benchmark: a Dask scheduler and
workers (Dask's own `dask scheduler` / `dask worker`, in a project checkout), and a
PostgreSQL server (initdb into a temporary folder as an unprivileged user)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import REPO
from tests.support import kill_tree

BIN = Path(sys.executable).parent
# Preloads for `dask worker` (tests/grading/): the keys of the data a worker holds.
SPY = "tests.grading.worker_spy"


def make_keys(folder: Path) -> Path:
    """A cluster's keys, as `python -m grader cluster-keys` writes them."""
    done = subprocess.run(
        [sys.executable, "-m", "grader", "cluster-keys", str(folder)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cluster-keys failed: {done.stdout}{done.stderr}")
    return folder


def free_port() -> int:
    """A TCP port nobody listens on now, on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1),
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def tls_flags(keys: Path, role: str) -> list[str]:
    """`dask scheduler` / `dask worker`'s TLS options with a member's key."""
    member = str(keys / f"{role}.pem")
    return ["--tls-ca-file", str(keys / "ca.pem"), "--tls-cert", member,
            "--tls-key", member]  # fmt: skip


@dataclass
class Cluster:
    """A `dask scheduler` on loopback and the `dask worker`s started for it; with
    `keys` (what `cluster-keys` wrote), TLS with the course's authority."""

    port: int
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None
    keys: Path | None = None

    @property
    def address(self) -> str:
        return f"{'tls' if self.keys else 'tcp'}://127.0.0.1:{self.port}"

    @property
    def grade_options(self) -> list[str]:
        """The grade command's options that grade on this cluster."""
        keys = ["--cluster-keys", str(self.keys)] if self.keys else []
        return ["--scheduler", self.address, *keys]

    def add_worker(
        self,
        root: Path = REPO,
        env: dict[str, str] | None = None,
        name: str = "",
        keys: Path | None = None,
        preload: str = "",
    ) -> subprocess.Popen:
        """`dask worker ADDRESS` started in `root` (one process, one thread), with
        the grader and course of `root` (PYTHONPATH), the workers' key of `keys`
        (the cluster's by default) and a module to preload."""
        env = {"PYTHONPATH": f"{root}{os.pathsep}{REPO}", **(env or {})}
        keys = keys or self.keys
        path = self.logs / f"worker-{len(list(self.logs.glob('worker-*.log')))}.log"
        log = open(path, "wb")
        worker = subprocess.Popen(
            [str(BIN / "dask"), "worker", self.address, "--nthreads", "1",
             "--no-dashboard", "--host", "127.0.0.1",
             *(("--name", name) if name else ()),
             *(tls_flags(keys, "worker") if keys else ()),
             *(("--preload", preload) if preload else ())],
            cwd=root, env={**os.environ, **env}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        worker.log = path  # what it printed (one file per worker ever started)
        self.workers.append(worker)
        return worker

    def client(self, timeout: str = "30s"):
        """A client of the scheduler (with the coordinator's key under TLS)."""
        from distributed import Client

        security = None
        if self.keys:
            from grader.grading.keys import cluster_security

            security = cluster_security(self.keys)
        return Client(
            self.address, timeout=timeout, security=security, set_as_default=False
        )

    def wait_workers(self, count: int, timeout: float = 120.0) -> None:
        """Wait until `count` workers are connected to the scheduler."""
        with self.client() as client:
            client.wait_for_workers(count, timeout=timeout)

    def stop_worker(self, worker: subprocess.Popen) -> None:
        """Stop one worker and everything it started."""
        with contextlib.suppress(OSError):
            os.killpg(worker.pid, signal.SIGKILL)
        kill_tree(worker.pid)
        with contextlib.suppress(Exception):
            worker.wait(10)
        self.workers.remove(worker)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            kill_tree(process.pid)
            with contextlib.suppress(Exception):
                process.wait(10)


@contextlib.contextmanager
def dask_cluster(logs: Path, workers: int = 0, keys: Path | None = None):
    """A scheduler (and `workers` workers from the project root), stopped after;
    with `keys`, TLS with the course's authority (`cluster-keys`)."""
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard", *(tls_flags(keys, "scheduler") if keys else ())],
        cwd=REPO, stdout=open(logs / "scheduler.log", "wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    cluster = Cluster(port, scheduler, logs=logs, keys=keys)
    try:
        wait_port(port)
        for _ in range(workers):
            cluster.add_worker()
        if workers:
            cluster.wait_workers(workers)
        yield cluster
    finally:
        cluster.stop()


# --- PostgreSQL -----------------------------------------------------------------------

PASSWORD = "s3cret-Pg-pass"  # what must appear nowhere in OUT or the output


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def postgres_server(password: str = PASSWORD):
    """A PostgreSQL server on a loopback port, its data in a new temporary folder,
    run as the unprivileged `postgres` user (or `nobody`), its user `grader` known
    by `password` (scram-sha-256); yields its URL base
    (postgresql://grader:PASSWORD@127.0.0.1:PORT), then stops it and removes the
    folder."""
    programs = postgres_bin()
    if programs is None:
        raise RuntimeError("PostgreSQL's server is not installed (make setup-dev does)")
    user = "postgres" if _user_exists("postgres") else "nobody"
    folder = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    for path in (folder, sockets):
        shutil.chown(path, user)
    as_user = ["setpriv", f"--reuid={user}", f"--regid={_gid(user)}", "--clear-groups"]
    env = {"HOME": str(folder), "PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -F"
    secret = folder / "password"
    secret.write_text(password)
    shutil.chown(secret, user)
    try:
        for command in (
            ["initdb", "-D", str(data), "-U", "grader", "--auth=scram-sha-256",
             f"--pwfile={secret}", "-E", "UTF8"],
            ["pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"),
             "-w", "start"],
        ):  # fmt: skip
            done = subprocess.run(
                [*as_user, str(programs / command[0]), *command[1:]],
                capture_output=True, text=True, env=env, cwd=folder,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")
        secret.unlink()
        yield f"postgresql://grader:{password}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_user, str(programs / "pg_ctl"), "-D", str(data), "-m",
             "immediate", "-w", "stop"],
            capture_output=True, env=env, cwd=folder,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def create_database(base: str, name: str) -> str:
    """A new database on the server at `base`; its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{base}/{name}"


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _gid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_gid
