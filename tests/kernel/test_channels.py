"""grader.kernel.channels: a reply whose wake-up signal was eaten is still delivered.

The trick that loses the signal is the one nbclient plays on itself (issue #312): a
reply reaches the client's socket, and before the event loop looks, something
sends on that same socket (nbclient's OutputWidget syncing its state). The stock
channel then sleeps until its timeout with the reply in hand; it is asserted
here, so the trick is real.
"""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from grader.kernel.channels import SLICE, CheckedChannel, SlicedPollChannel
from grader.kernel.manager import GraderKernelManager

TIMEOUT = 3.0  # seconds the client waits for the reply


async def reply_after_eaten_signal(channel_class, folder, eat_signal: bool) -> float:
    """Seconds until channel_class's get_msg returns a reply sent while it waits."""
    context, peer_context = zmq.asyncio.Context(), zmq.Context()
    kernel = peer_context.socket(zmq.ROUTER)
    client = context.socket(zmq.DEALER)
    try:
        kernel.bind(f"ipc://{folder}/shell")
        client.connect(f"ipc://{folder}/shell")
        session = Session()
        session.send(client, session.msg("kernel_info_request"))
        identity = kernel.recv_multipart()[0]
        waiting = asyncio.ensure_future(
            channel_class(client, session).get_msg(timeout=TIMEOUT)
        )
        await asyncio.sleep(0.1)  # the poll is waiting now
        start = time.monotonic()
        reply = session.msg("execute_reply", content={"status": "ok"})
        session.send(kernel, reply, ident=identity)
        time.sleep(0.1)  # the reply is in; the event loop has not looked yet
        if eat_signal:
            session.send(client, session.msg("comm_msg"))
        message = await waiting
        assert message["msg_type"] == "execute_reply"
        return time.monotonic() - start
    finally:
        client.close(linger=0)
        kernel.close(linger=0)
        context.term()
        peer_context.term()


def test_the_stock_channel_sleeps_through_a_reply_whose_signal_was_eaten(tmp_path):
    seconds = asyncio.run(
        reply_after_eaten_signal(AsyncZMQSocketChannel, tmp_path, eat_signal=True)
    )
    assert seconds > TIMEOUT - 0.5


@pytest.mark.parametrize("eat_signal", [True, False], ids=["eaten", "normal"])
def test_the_sliced_channel_delivers_the_reply_within_a_slice(tmp_path, eat_signal):
    seconds = asyncio.run(
        reply_after_eaten_signal(SlicedPollChannel, tmp_path, eat_signal)
    )
    assert seconds < SLICE + 0.5 < TIMEOUT


def test_the_sliced_channel_still_times_out_when_nothing_comes(tmp_path):
    """Empty after the whole timeout, not after the first slice."""

    async def wait() -> float:
        context = zmq.asyncio.Context()
        client = context.socket(zmq.DEALER)
        client.connect(f"ipc://{tmp_path}/nobody")
        start = time.monotonic()
        try:
            with pytest.raises(Empty):
                await SlicedPollChannel(client, Session()).get_msg(timeout=1.0)
            return time.monotonic() - start
        finally:
            client.close(linger=0)
            context.term()

    assert 1.0 <= asyncio.run(wait()) < 1.0 + SLICE + 0.5


def test_grading_kernels_get_the_sliced_shell_channel():
    client = GraderKernelManager().client()
    assert client.shell_channel_class is SlicedPollChannel


def unreadable_contents() -> list[bytes]:
    """Contents a kernel can sign and send that no reader can read."""
    return [
        b"[" * 100_000 + b"]" * 100_000,  # JSON nested past any recursion limit
        b"{not json",
        b"\xff\xfe",  # not UTF-8
    ]


@pytest.mark.parametrize("channel_class", [CheckedChannel, SlicedPollChannel])
def test_a_message_no_one_can_read_is_dropped_and_the_next_one_comes(
    tmp_path, channel_class
):
    """A kernel's unreadable message (it made jupyter_client raise inside nbclient's
    loop: the notebook became a grader_error) is as if never sent."""

    async def receive() -> list[str]:
        context, peer_context = zmq.asyncio.Context(), zmq.Context()
        kernel = peer_context.socket(zmq.PUB)
        client = context.socket(zmq.SUB)
        try:
            kernel.bind(f"ipc://{tmp_path}/iopub")
            client.connect(f"ipc://{tmp_path}/iopub")
            client.setsockopt(zmq.SUBSCRIBE, b"")
            await asyncio.sleep(0.2)  # the subscription is in place
            session = Session(key=b"secret")
            for content in unreadable_contents():
                header = session.msg_header("display_data")
                parts = [session.pack(header), b"{}", b"{}", content]
                kernel.send_multipart([b"<IDS|MSG>", session.sign(parts), *parts])
            session.send(kernel, session.msg("stream", content={"text": "after"}))
            channel = channel_class(client, session)
            first = await channel.get_msg(timeout=5)
            return [first["msg_type"], first["content"]["text"]]
        finally:
            client.close(linger=0)
            kernel.close(linger=0)
            context.term()
            peer_context.term()

    assert asyncio.run(receive()) == ["stream", "after"]


def test_every_channel_of_a_grading_kernel_drops_what_it_cannot_read():
    client = GraderKernelManager().client()
    for kind in ("iopub", "stdin", "control", "shell"):
        assert issubclass(getattr(client, f"{kind}_channel_class"), CheckedChannel)
