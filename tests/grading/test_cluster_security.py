"""A cluster an attacker can reach: TLS with the course's keys, results as data.

On loopback, a TLS scheduler started with keys from `python -m grader
cluster-keys`: a worker and a client whose certificates come from another
authority (or none) never join or submit. A worker with the cluster's own key
that forges what it sends (a pickled object, paths outside OUT, another student's
files or grades, points above the course's) is refused, named, and nothing of its
outcome is installed or run; the student is graded by an honest worker that joins
after, as locally.
"""

from __future__ import annotations

import gc
import subprocess
import time
from pathlib import Path

import pytest

from grader.course import REPO
from grader.demo.submissions import solved, with_edits
from tests.grading.cluster_support import dask_cluster, make_keys
from tests.grading.test_cluster import SIG, SIGN, grade, grade_command, pytestmark
from tests.support import read_csv, write_notebook

__all__ = ["pytestmark"]  # slow, and skipped without a sandbox, as test_cluster
EXPECTED = {"alice": 4.0, "bob": 1.0}
FORGER = "tests.grading.forging_worker"


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    return make_keys(tmp_path_factory.mktemp("keys") / "keys")


@pytest.fixture(scope="module")
def cluster(keys, tmp_path_factory):
    """A TLS scheduler, no worker yet: each test starts its own."""
    with dask_cluster(tmp_path_factory.mktemp("logs"), keys=keys) as running:
        yield running


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class") / "class"
    write_notebook(folder / "alice" / f"{SIG}.ipynb", solved(SIG))
    write_notebook(folder / "bob" / f"{SIG}.ipynb", with_edits(SIG, "sigmoid", SIGN))
    return folder


def workers_of(cluster) -> list[str]:
    with cluster.client() as client:
        return sorted(client.scheduler_info()["workers"])


def test_a_worker_with_another_authoritys_key_never_joins(cluster, tmp_path):
    """Its TLS handshake fails (the scheduler checks its certificate against the
    course's authority): it logs the refusal and is never among the workers."""
    stranger_keys = make_keys(tmp_path / "other-keys")
    stranger = cluster.add_worker(keys=stranger_keys)
    log = stranger.log
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "certificate" not in _text(log):
        time.sleep(0.2)
    try:
        assert "certificate" in _text(log).lower(), _text(log)
        assert workers_of(cluster) == []
    finally:
        cluster.stop_worker(stranger)


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.mark.parametrize("client_keys", ["none", "other authority"])
def test_a_client_without_the_courses_key_cannot_connect(
    cluster, tmp_path, client_keys
):
    """A plain client (no certificate) or one with another authority's key: the
    connection fails, nothing is submitted."""
    from distributed import Client

    from grader.grading.keys import cluster_security

    security = None
    if client_keys == "other authority":
        security = cluster_security(make_keys(tmp_path / "other"))
    try:
        with pytest.raises((OSError, TimeoutError, TypeError)) as refused:
            Client(
                cluster.address, timeout="5s", security=security, set_as_default=False
            )
    finally:
        # The half-made Client is collected here, not during the next Client's start:
        # its __del__ stops a LoopRunner, whose lock (one for the class) that start
        # holds: a full run once hung there.
        del refused
        gc.collect()


def test_the_grade_command_refuses_plain_tcp_off_loopback(submissions, tmp_path):
    """--scheduler tcp://10.1.2.3:8786: exit 2, the TLS commands shown, nothing
    written."""
    result = grade(submissions, tmp_path / "out", "--scheduler", "tcp://10.1.2.3:8786")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "python -m grader cluster-keys" in result.stderr
    assert "--tls-ca-file" in result.stderr
    assert not (tmp_path / "out").exists()


FORGERIES = {
    "pickle": "is not plain data",
    "raise": "raised",
    "escape": "not a plain relative path",
    "other-student": "not under",
    "other-grades": "where",
    "points": "outside 0 to",
}


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forging_worker_is_refused_and_nothing_of_it_lands(
    kind, cluster, submissions, tmp_path
):
    """The forger is the only worker when the run starts, so it gets a student:
    the run names it and why (on stderr, at once, and in the summary); then an
    honest worker joins and grades the class as locally. The pickled payload (or
    exception) is never unpickled by the grading command, no file lands outside
    OUT or in another student's folders."""
    marker = tmp_path / "marker"
    forger = cluster.add_worker(
        preload=FORGER,
        env={"GRADER_TEST_FORGE": kind, "GRADER_TEST_MARKER": str(marker)},
    )
    out = tmp_path / "out"
    cluster.wait_workers(1)
    process = subprocess.Popen(
        grade_command(submissions, out, *cluster.grade_options),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    honest = None
    try:
        refusal = _wait_for_line(process, "refused worker")
        assert "refused worker tls://127.0.0.1:" in refusal, refusal
        assert FORGERIES[kind] in refusal, refusal
        honest = cluster.add_worker()
        stdout, stderr = process.communicate(timeout=400)
    finally:
        process.kill()
        for worker in (forger, honest):
            if worker is not None:
                cluster.stop_worker(worker)
    assert process.returncode == 0, stdout + stderr
    assert "NOTE: refused worker tls://127.0.0.1:" in stdout
    _, rows = read_csv(out / "grades.csv")
    scores = {r["student"]: float(r["score"]) for r in rows if r["notebook"] == SIG}
    assert scores == EXPECTED
    # (a worker may unpickle its own exception: Dask checks it can be sent)
    assert str(process.pid) not in _text(marker).split(), _text(marker)
    if kind == "pickle":
        assert not marker.exists(), marker.read_text()
    assert not (tmp_path / "escaped-from-out.txt").exists()
    for student in EXPECTED:
        assert b"forged" not in (out / "feedback" / student / "index.html").read_bytes()


def _wait_for_line(process: subprocess.Popen, text: str, timeout: float = 400) -> str:
    """The first line of the command's stderr holding `text`."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r}: {''.join(seen)}")
