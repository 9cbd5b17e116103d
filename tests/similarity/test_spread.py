"""With --scheduler, the winnowed hashes are made on the Dask cluster's workers: a real
`dask scheduler` and `dask worker` on loopback, the worker approved as grading
approves it (DaskRunner's check of its course and code), then DaskRunner.map runs
winnow_batch there; the copies found are the ones found here."""

from __future__ import annotations

import os

import numpy as np
import pytest

from grader.course import COURSE
from grader.grading.cluster import DaskRunner
from grader.similarity.answers import course_boilerplate
from grader.similarity.copies import find_copies
from tests.grading.cluster_support import dask_cluster
from tests.similarity.copies_class import class_code

pytestmark = pytest.mark.slow


MARK = "GRADER_TEST_SPREAD_WORKER"  # set in the worker's environment only


def test_the_winnowing_spread_over_the_cluster_find_the_same_copies(tmp_path):
    boilerplate = course_boilerplate(COURSE)
    here = find_copies(class_code(), boilerplate)
    with dask_cluster(tmp_path / "logs") as cluster:
        cluster.add_worker(env={MARK: "worker"})
        cluster.wait_workers(1)
        runner = DaskRunner(cluster.address, COURSE, bundle=None)
        from distributed import Client

        with Client(cluster.address, timeout="30s") as client:
            runner._review(client)  # as a grading run approves its workers
        assert len(runner.approved) == 1, runner.refused
        assert MARK not in os.environ
        assert runner.map(os.getenv, [MARK, MARK]) == ["worker", "worker"]
        there = find_copies(class_code(), boilerplate, spread=runner.map)
        assert runner.mapped_here == 0  # the hashes came back as plain data
    assert there.pairs == here.pairs and there.groups == here.groups
    assert [p.similarity for p in there.flagged] == [p.similarity for p in here.flagged]
    assert np.isclose(there.pairs[0].shared, here.pairs[0].shared)
