"""The kernel manager and client the grader's executor uses for every kernel.

How a kernel starts and is contained is the provisioner's (grader.kernel.provisioner);
this manager adds only what the grader's side of the connection needs: one shared zmq
context, and a client that refuses oversized messages and notices when its iopub
connection is cut.
"""

from __future__ import annotations

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type, Unicode, default

from .channels import SlicedPollClient
from .provisioner import ENTRY_POINT


class LimitedKernelClient(SlicedPollClient):
    """A client that notices when its iopub connection is cut, and never sleeps
    through a reply (grader.kernel.channels).

    zmq drops the connection of a peer that sends a message larger than the
    socket's MAXMSGSIZE (GraderKernelManager.max_message, from the output limit), so
    a kernel printing a gigabyte at once never makes the grader hold it.
    """

    _monitor = None

    def connect_iopub(self, identity=None):
        socket = super().connect_iopub(identity)
        address = f"inproc://iopub-monitor-{id(socket)}"
        socket.monitor(address, zmq.EVENT_DISCONNECTED)
        self._monitor = self.context.socket(zmq.PAIR)
        self._monitor.connect(address)
        return socket

    def iopub_disconnected(self) -> bool:
        """Whether the iopub connection was dropped (so far)."""
        monitor = self._monitor
        return bool(
            monitor is not None
            and not monitor.closed
            and monitor.getsockopt(zmq.EVENTS) & zmq.POLLIN
        )

    def stop_channels(self) -> None:
        if self._monitor is not None:
            self._monitor.close(linger=0)
        super().stop_channels()


class GraderKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels start through the grader's provisioner,
    with the grader's client and one shared zmq context."""

    provisioner_name = Unicode(
        ENTRY_POINT,
        help="The kernel provisioner (an entry point of jupyter_client."
        "kernel_provisioners) for kernels whose spec names none.",
    ).tag(config=True)

    client_class = DottedObjectName(
        f"{LimitedKernelClient.__module__}.{LimitedKernelClient.__qualname__}"
    ).tag(config=True)
    client_factory = Type(LimitedKernelClient, klass=AsyncKernelClient).tag(config=True)
    # Largest message the grader accepts from the kernel (0: any); set per notebook.
    max_message = 0

    @default("context")
    def _shared_context(self) -> zmq.asyncio.Context:
        """The process's one zmq context, never destroyed (so never garbage-collected).

        With a context per kernel manager, garbage collection could finalize a
        context before its sockets, and Context.term() then waits forever for those
        sockets (seen: both workers stuck in term() inside a gradebook query). With
        one shared context, each socket is closed on its own, without lingering.
        """
        context = zmq.asyncio.Context.instance()
        context.setsockopt(zmq.LINGER, 0)
        return context

    @property
    def kernel_spec(self):
        """The kernel's spec, naming provisioner_name unless it names its own."""
        spec = AsyncKernelManager.kernel_spec.fget(self)
        if spec is not None and "kernel_provisioner" not in spec.metadata:
            spec.metadata["kernel_provisioner"] = {
                "provisioner_name": self.provisioner_name
            }
        return spec

    def client(self, **kwargs):
        """A client whose sockets refuse messages over max_message bytes."""
        client = super().client(**kwargs)
        if self.max_message:
            client.context.setsockopt(zmq.MAXMSGSIZE, self.max_message)
            client.context.setsockopt(zmq.RCVHWM, 64)
        return client
