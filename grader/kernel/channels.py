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

Every channel also drops a message it cannot read (CheckedChannel): a kernel is the
student's, and one that sends JSON nested 100,000 deep (or not JSON, or a bad
signature) made jupyter_client raise inside nbclient's loop: the notebook became a
grader_error, retried on every run. Dropped, it is as if never sent.
"""

from __future__ import annotations

from queue import Empty
from time import monotonic
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

SLICE = 0.25  # seconds: the longest a missed signal can delay a reply


# What jupyter_client raises on a message it cannot read (JSON, nesting, UTF-8,
# signature, missing parts).
UNREADABLE = (ValueError, RecursionError, TypeError, KeyError, IndexError)


class CheckedChannel(AsyncZMQSocketChannel):
    """An async channel that drops a message it cannot read, as if never sent."""

    async def get_msg(  # type: ignore[override]
        self, timeout: float | None = None
    ) -> dict[str, Any]:
        """The next readable message; Empty once `timeout` seconds pass (None: wait
        forever)."""
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - monotonic())
            if not await self.socket.poll(None if left is None else int(left * 1000)):
                raise Empty
            try:
                return await self._recv()
            except UNREADABLE:
                continue  # the kernel's garbage: wait on for the next message


class SlicedPollChannel(CheckedChannel):
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
    """An async kernel client whose shell channel is a SlicedPollChannel and whose
    other channels are CheckedChannels; the grader's own client builds on it, other
    kernel managers take CLIENT_CLASS."""

    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(CheckedChannel)
    stdin_channel_class = Type(CheckedChannel)
    control_channel_class = Type(CheckedChannel)


# For AsyncKernelManager.client_class (config or an nbgrader command line).
CLIENT_CLASS = f"{SlicedPollClient.__module__}.{SlicedPollClient.__qualname__}"
