"""A `dask worker --preload` for the cluster tests: notes, in the file
$GRADER_TEST_SPY, every key of data the worker ever holds (scattered to it, fetched
or computed), one per line, as it sees them (every 50 ms)."""

from __future__ import annotations

import os
import threading
import time


def dask_setup(worker) -> None:
    path = os.environ["GRADER_TEST_SPY"]
    open(path, "w").close()
    seen: set[str] = set()

    def watch() -> None:
        while True:
            for key in list(worker.data.keys()):
                if str(key) not in seen:
                    seen.add(str(key))
                    with open(path, "a") as file:
                        file.write(f"{key}\n")
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True, name="grader-test-spy").start()
