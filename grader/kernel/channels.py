"""A shell channel that cannot miss a reply: it polls in short slices.

nbclient waits for a cell's execute_reply with one long poll on the shell socket
(as long as the cell's time limit). While it waits, an ipywidgets Output widget in
the cell makes nbclient send comm messages on that same socket (its OutputWidget
syncs state on clear_output). A zmq socket signals new messages through one
edge-triggered file descriptor, and that send can consume the signal of a reply that
has just arrived. The long poll then sleeps until its timeout although the reply is
there (nbclient issue #312, open): about one slider cell in fifty waited the whole
120 s cell limit, so a class took 1.7-2.1x as long as it should.

Each new poll first checks the socket itself, so polling in slices bounds the cost
of a missed signal to one slice.
"""

from __future__ import annotations

from queue import Empty
from time import monotonic
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

SLICE = 0.25  # seconds: the longest a missed signal can delay a reply


class SlicedPollChannel(AsyncZMQSocketChannel):
    """An async channel whose get_msg waits in polls of at most SLICE seconds."""

    async def get_msg(  # type: ignore[override]
        self, timeout: float | None = None
    ) -> dict[str, Any]:
        """The next message; Empty once `timeout` seconds pass (None: wait forever)."""
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = SLICE if deadline is None else max(0.0, deadline - monotonic())
            try:
                return await super().get_msg(timeout=min(SLICE, left))
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise


class SlicedPollClient(AsyncKernelClient):
    """An async kernel client whose shell channel is a SlicedPollChannel; the
    grader's own client builds on it, other kernel managers take CLIENT_CLASS."""

    shell_channel_class = Type(SlicedPollChannel)


# For AsyncKernelManager.client_class (config or an nbgrader command line).
CLIENT_CLASS = f"{SlicedPollClient.__module__}.{SlicedPollClient.__qualname__}"
