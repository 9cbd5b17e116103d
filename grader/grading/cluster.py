"""Grading on a Dask cluster: `python -m grader grade ... --scheduler tls://HOST:PORT
--cluster-keys KEYS`.

The workers are Dask's own (`dask worker tls://HOST:PORT` with the workers' key,
started in a checkout of this project with its environment, `make setup`). The
scheduler, the workers and the grading command each show a certificate of the
course's own authority (grader.grading.keys), so nothing else joins or submits, and
the wire is encrypted; unencrypted tcp:// is for loopback only. Nothing is shared
but the scheduler's connections: the course goes to the approved workers only
(scattered to them; a worker approved later fetches it for its first student), each
task is one student (their submitted bytes in, the outcome as plain data out), and
the grading command alone writes OUT and the gradebook.

Every worker is checked before it gets a student, and again for each worker that
joins later: the course of the checkout it runs in must be the course being graded,
and the grader's code and the versions of the packages grading depends on the
coordinator's (`environment`), or it is refused, named, and never used (tasks are
restricted to the approved workers). The check catches honest mistakes (a stale
checkout); a worker can claim anything, and its certificate is the security. What
a worker sends is data, checked (grader.grading.outcome_wire): an outcome for
another student, with points above the course's or files outside the student's
folders of OUT gets its worker refused and the student graded elsewhere, and the
coordinator's process unpickles nothing from the network. The sandbox is probed on
each worker: `--sandbox required` fails the run on a worker without one; under
`auto` such a worker is named in a loud warning and in the summary, and grades
without it (each such student is named, and graded again once the sandbox is there).

A worker killed mid-student costs nothing: Dask runs the task again on another
worker, and the coordinator installs each student's outcome once. A student whose
grading kills its worker `distributed.scheduler.allowed-failures` + 1 times (the
scheduler's setting, 3 by default) ends as grader_error (KilledWorker) instead of
taking more workers down. A lost scheduler ends the command with ClusterError; the
students recorded until then stay recorded, and a re-run grades the rest.

On a worker, students are graded in a pool of processes of its own (one per Dask
thread), which die with the worker (watch_parent), so that no two students share a
process.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import platform
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

from ..course import Course
from ..files import tree_hash
from ..kernel.probe import SandboxUnavailable, sandbox_problem
from ..model import NoSandbox, RefusedWorker, RunWarning
from .bundle import CourseBundle
from .outcome_wire import (
    ForgedOutcome,
    WorkerFailed,
    error_to_wire,
    outcome_to_wire,
    read_outcome,
    read_report,
    refuse_pickles,
)
from .runner import Finished, WorkerDied, remove_stale_scratch
from .student import StudentJob, StudentOutcome, grade_student

PACKAGES = ("numpy", "ipykernel", "nbgrader", "nbclient", "jupyter_client")
GRADER = Path(__file__).resolve().parent.parent  # the grader package
CHECKOUT = GRADER.parent  # the project checkout a worker was started in
CONNECT_TIMEOUT = "20s"
REVIEW_SECONDS = 1.0  # how often new workers are looked for
NO_WORKER_SECONDS = 300.0  # how long to wait for a usable worker
LOST_SECONDS = 10.0  # how long the scheduler may be unreachable
# Students handed to the scheduler per worker thread: one, so that the last
# students go to whichever worker is free (two left one worker with the last
# two students while the other idled: 1.48x for two workers instead of ~2).
TASKS_PER_THREAD = 1
MAX_REQUEUES = 3  # a student's task cancelled by the scheduler is given back
MAX_SCATTER_FAILURES = 100  # the course not sent, each 0.2 s apart: give up


class ClusterError(RuntimeError):
    """The cluster cannot grade: the scheduler is unreachable or lost, or no
    worker may be used (the message says why)."""


def grader_fingerprint(root: Path = GRADER) -> str:
    """SHA-256 over the grader package's files (paths and bytes)."""
    return tree_hash(root).hexdigest()


def environment(course_fingerprint: str) -> dict[str, str]:
    """What a worker must share with the coordinator: the course (its
    fingerprint), the grader's code, Python and the packages grading depends on."""
    found = {
        "course": course_fingerprint,
        "grader code": grader_fingerprint(),
        "python": platform.python_version(),
    }
    found.update({name: version(name) for name in PACKAGES})
    return found


def worker_report() -> dict[str, str]:
    """Run on each worker (Client.run): its environment, with the course of its
    checkout, and why its sandbox does not work ("" when it works)."""
    checkout = Course(CHECKOUT).fingerprint()
    return {**environment(checkout), "sandbox": sandbox_problem() or ""}


def differences(here: dict[str, str], there: dict[str, str]) -> list[str]:
    """What differs between the coordinator's environment and a worker's, in words."""
    found = []
    for part, mine in here.items():
        theirs = there.get(part, "(missing)")
        if theirs != mine:
            short = 12 if len(mine) == 64 else None
            found.append(f"{part}: {theirs[:short]} there, {mine[:short]} here")
    return found


# --- on a worker ----------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_scratch: str | None = None  # this worker's scratch folder for students' courses


def grade_on_worker(job: StudentJob, bundle: CourseBundle) -> dict:
    """A Dask task: grade one student in this worker's own pool of processes; the
    outcome, or the failure, as plain data (outcome_wire)."""
    try:
        return outcome_to_wire(_grade_in_own_pool(job, bundle))
    except Exception as error:
        return error_to_wire(error)


def _grade_in_own_pool(job: StudentJob, bundle: CourseBundle) -> StudentOutcome:
    global _pool
    if _pool is None:
        from distributed import get_worker

        threads = max(1, get_worker().state.nthreads)
        # Students' private courses in one folder per worker process, so that a
        # worker killed mid-student leaves nothing once another starts here.
        remove_stale_scratch()
        scratch = tempfile.mkdtemp(prefix=f"grader-run-{os.getpid()}-")
        atexit.register(shutil.rmtree, scratch, True)
        # A nanny's worker is a daemonic process, which multiprocessing forbids to
        # have children (they could outlive it): ours die with it (watch_parent).
        multiprocessing.current_process()._config["daemon"] = False
        _pool = ProcessPoolExecutor(
            threads, mp_context=multiprocessing.get_context("spawn"),
            initializer=watch_parent, initargs=(os.getpid(), scratch),
        )  # fmt: skip
    return _pool.submit(_grade_in_pool, job, bundle).result()


def _grade_in_pool(job: StudentJob, bundle: CourseBundle) -> StudentOutcome:
    return grade_student(job, bundle, _scratch)


def watch_parent(parent: int, scratch: str | None = None) -> None:
    """In a worker's grading process: exit when the Dask worker process is gone.

    Not PR_SET_PDEATHSIG, which fires when the *thread* that started the process
    ends, and a Dask worker's task threads may come and go; a thread that looks
    at the parent's pid twice a second instead (the sandboxes below die with the
    process: bwrap's --die-with-parent). Keeps the worker's scratch folder."""
    global _scratch
    _scratch = scratch
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


# --- on the coordinator ---------------------------------------------------------------


class DaskRunner:
    """Students graded on the workers of a running Dask scheduler."""

    def __init__(
        self,
        address: str,
        course: Course,
        bundle: CourseBundle,
        *,
        sandbox: str = "auto",
        security=None,
    ) -> None:
        self.address = address
        self.bundle = bundle
        self.course = course
        self.sandbox = sandbox
        self.security = security  # distributed's Security (keys.cluster_security)
        self.here = environment(course.fingerprint())
        self.approved: dict[str, int] = {}  # worker address -> threads
        self.mapped_here = 0  # map calls made here instead of on the workers
        self.refused: dict[str, str] = {}  # worker address -> why
        self.warn: Callable[[RunWarning], None] = lambda warning: None

    def run(
        self, jobs: list[StudentJob], warn: Callable[[RunWarning], None]
    ) -> Generator[Finished, None, None]:
        """Grade every job on the cluster; yield each as it finishes; refused
        workers and workers without a sandbox go to `warn`."""
        if not jobs:
            return
        self.warn = warn
        from distributed import Client

        # The client's own log (reconnection attempts with their tracebacks) is
        # not for the instructor: ClusterError says what happened.
        for name in ["distributed", *logging.root.manager.loggerDict]:
            if name.split(".")[0] == "distributed":
                logging.getLogger(name).setLevel(logging.CRITICAL)
        refuse_pickles()
        try:
            client = Client(
                self.address, timeout=CONNECT_TIMEOUT, set_as_default=False,
                security=self.security, deserializers=["msgpack", "error"],
            )  # fmt: skip
        except (OSError, TimeoutError) as error:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.address}: {error}"
            ) from None
        try:
            yield from self._run(client, jobs)
        finally:
            client.close()

    def map(self, function: Callable, items: list) -> list:
        """`function` (a plain function) over `items` on the workers approved for
        this run, the results in order: the class-wide analyses after grading
        (grader.similarity's winnowed hashes). Here instead when no worker was
        approved (no student was graded on the cluster), the scheduler is gone, or
        the results are not plain data (msgpack): nothing a worker sends is
        unpickled, so results that only pickle are made here."""
        if self.approved:
            from distributed import Client

            refuse_pickles()
            try:
                with Client(
                    self.address,
                    timeout=CONNECT_TIMEOUT,
                    set_as_default=False,
                    security=self.security,
                    deserializers=["msgpack", "error"],
                ) as client:
                    futures = client.map(
                        function, items, pure=False, workers=list(self.approved),
                        allow_other_workers=False,
                    )  # fmt: skip
                    return client.gather(futures)
            except Exception:  # unreachable, or what came back is not plain data
                pass
        self.mapped_here += 1
        return [function(item) for item in items]

    def _run(self, client, jobs: list[StudentJob]) -> Generator[Finished, None, None]:
        from distributed import as_completed

        queue = deque(jobs)
        running: dict = {}  # future -> job
        restricted: dict = {}  # future -> the workers it may run on
        retried: dict[str, int] = {}  # student -> times given back to the queue
        done = as_completed(loop=client.loop)
        scattered = None  # the bundle, on the workers
        reviewed = waiting = lost = 0.0
        scatter_failures = 0
        while queue or running:
            now = time.monotonic()
            if client.status != "running":
                lost = lost or now
                if now - lost > LOST_SECONDS:
                    raise ClusterError(
                        f"lost the Dask scheduler at {self.address} (client "
                        f"{client.status}); the students graded so far are recorded: "
                        "run the same command again to grade the rest"
                    )
                time.sleep(0.2)
                continue
            lost = 0.0
            if now - reviewed > REVIEW_SECONDS:
                self._review(client)
                reviewed = now
            if not self.approved:
                waiting = waiting or now
                if now - waiting > NO_WORKER_SECONDS:
                    refused = "; ".join(
                        f"{w}: {why}" for w, why in self.refused.items()
                    )
                    raise ClusterError(
                        f"no usable worker joined the Dask scheduler at "
                        f"{self.address} in {NO_WORKER_SECONDS:.0f} s"
                        + (f" (refused: {refused})" if refused else "")
                    )
                time.sleep(0.2)
                continue
            waiting = 0.0
            # Students whose every allowed worker is gone (a nanny restarts a
            # killed worker under a new address), or who may go to a worker
            # refused since, go back to the queue.
            for future, allowed in list(restricted.items()):
                if not allowed & set(self.approved) or allowed & set(self.refused):
                    queue.appendleft(running.pop(future))
                    del restricted[future]
                    future.cancel()
            if scattered is None or scattered.status != "finished":
                # once, to the approved workers only (workers approved later fetch
                # it for their first student; again if it was lost)
                try:
                    scattered = client.scatter(
                        self.bundle, workers=list(self.approved), broadcast=True,
                        hash=False,
                    )  # fmt: skip
                    scatter_failures = 0
                except Exception as error:  # one of them is gone: look again
                    scattered, reviewed = None, 0.0
                    scatter_failures += 1
                    if scatter_failures > MAX_SCATTER_FAILURES:
                        raise ClusterError(
                            f"cannot send the course to the workers of "
                            f"{self.address}: {type(error).__name__}: {error}"
                        ) from None
                    time.sleep(0.2)
                    continue
            capacity = TASKS_PER_THREAD * sum(self.approved.values())
            while queue and len(running) < capacity:
                job = queue.popleft()
                future = client.submit(
                    grade_on_worker, job, scattered, pure=False,
                    key=f"grade-{job.student}-{uuid.uuid4().hex[:8]}",
                    workers=list(self.approved), allow_other_workers=False,
                )  # fmt: skip
                running[future] = job
                restricted[future] = frozenset(self.approved)
                done.add(future)
            if not done.has_ready():
                time.sleep(0.01)
                continue
            for future in done.next_batch(block=False):
                if future not in running:  # given back to the queue above
                    continue
                job = running.pop(future)
                del restricted[future]
                if future.status == "cancelled" and client.status == "running":
                    # Its input was lost with its workers (the course, scattered
                    # to them): graded again, a few times at most.
                    retried[job.student] = retried.get(job.student, 0) + 1
                    if retried[job.student] <= MAX_REQUEUES:
                        queue.appendleft(job)
                        future.release()
                        continue
                finished = self._finished(client, future, job)
                future.release()
                if finished is None:  # its worker is refused: graded elsewhere
                    queue.appendleft(job)
                    continue
                yield finished

    def _finished(self, client, future, job: StudentJob) -> Finished | None:
        """(job, outcome, error) of a finished task; None when the worker that
        sent it is refused for it (the student is to be graded elsewhere)."""
        if future.status == "cancelled":
            raise ClusterError(
                f"the Dask scheduler at {self.address} cancelled the grading of "
                f"{job.student} (lost, or restarted); run the same command again "
                "to grade the rest"
            )
        if future.status != "finished":
            return self._erred(client, future, job)
        worker = ", ".join(client.who_has(future).get(future.key, ())) or "(gone)"
        try:
            data = future.result()
        except Exception as error:  # not msgpack: refused by the deserializers
            self._refuse(
                worker,
                f"its outcome for {job.student} is not plain data "
                f"({type(error).__name__}: {str(error)[:200]})",
            )
            return None
        try:
            return job, read_outcome(data, job, self.course), None
        except WorkerFailed as error:
            return job, None, error
        except ForgedOutcome as error:
            self._refuse(
                worker, f"its outcome for {job.student} fails the check: {error}"
            )
            return None

    def _erred(self, client, future, job: StudentJob) -> Finished | None:
        """A task Dask reports as failed: the scheduler's KilledWorker (the student
        killed its workers), or a worker that raised, which an honest one never
        does (its failures come back as data): that worker is refused. The error
        itself is never unpickled: its text is the scheduler's."""
        try:
            erred = client.run_on_scheduler(_task_error, key=future.key)
        except Exception:  # a scheduler without the grader to import
            erred = None
        if not isinstance(erred, dict) or erred.get("killed", True):
            return (
                job,
                None,
                WorkerDied(
                    "the workers grading this student died each time it was tried "
                    "(Dask's KilledWorker)"
                ),
            )
        text, workers = str(erred.get("text", "")), erred.get("workers", [])
        for worker in workers if isinstance(workers, list | tuple) else []:
            self._refuse(
                str(worker), f"its task for {job.student} raised: {text[:300]}"
            )
        return None

    def _review(self, client) -> None:
        """Check the workers that joined since the last look; approve or refuse."""
        workers = client.scheduler_info()["workers"]
        for gone in set(self.approved) - set(workers):
            del self.approved[gone]
        new = [w for w in workers if w not in self.approved and w not in self.refused]
        if not new:
            return
        reports = client.run(worker_report, workers=new, on_error="return")
        for worker in new:
            try:
                report = read_report(reports.get(worker))
            except ForgedOutcome as error:
                self._refuse(worker, f"its check failed: {error}")
                continue
            differ = differences(self.here, report)
            if differ:
                self._refuse(
                    worker,
                    "not the coordinator's course and grader: " + "; ".join(differ),
                )
                continue
            if report["sandbox"] and self.sandbox == "required":
                raise SandboxUnavailable(
                    f"--sandbox required, but the sandbox does not work on worker "
                    f"{worker}: {report['sandbox']}"
                )
            if report["sandbox"] and self.sandbox == "auto":
                self.warn(NoSandbox(report["sandbox"], worker))
            self.approved[worker] = max(1, workers[worker].get("nthreads", 1))

    def _refuse(self, worker: str, why: str) -> None:
        """Never use this worker; say so now and in the summary."""
        self.approved.pop(worker, None)
        self.refused[worker] = why
        self.warn(RefusedWorker(worker, why))


def _task_error(dask_scheduler, key: str) -> dict:
    """Run on the scheduler: why a task failed, in its words, and the workers it
    failed on (plain data)."""
    task = dask_scheduler.tasks.get(key)
    if task is None:
        return {"killed": True}
    return {
        "killed": task.suspicious > dask_scheduler.allowed_failures,
        "text": str(task.exception_text or ""),
        "workers": sorted(task.erred_on or ()),
    }
