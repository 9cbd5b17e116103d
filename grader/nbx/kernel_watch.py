"""What the executor watches of a notebook's kernel: what its sandbox saw (through
its provisioner), an iopub connection cut by a message over the output limit, the
notebook watchdog's kill, and the interrupts it sent."""

from __future__ import annotations

import asyncio

from jupyter_client import KernelClient, KernelManager

from ..kernel.manager import LimitedKernelClient
from ..kernel.provisioner import KernelOutcome, SandboxProvisioner


class KernelWatch:
    """One notebook's kernels, as the executor sees them (the latest one counts)."""

    def __init__(self) -> None:
        self.km: KernelManager | None = None  # kept after nbclient drops it
        self.iopub_cut = False  # a message over the limit cut the connection
        self.killed_for_time = False  # the notebook ran past its limit
        self._pending: set[asyncio.Task] = set()  # interrupts not yet sent

    @property
    def provisioner(self) -> SandboxProvisioner | None:
        """The provisioner of the latest kernel (kept after its shutdown)."""
        provisioner = self.km.provisioner if self.km is not None else None
        return provisioner if isinstance(provisioner, SandboxProvisioner) else None

    def outcome(self) -> KernelOutcome | None:
        """What the sandbox saw of the latest kernel."""
        provisioner = self.provisioner
        return provisioner.outcome() if provisioner and provisioner.kernel else None

    def note_iopub(self, kc: KernelClient | None) -> None:
        """A cut iopub connection while the kernel still runs: it sent a message
        over the limit (when the kernel died, its connection went with it)."""
        provisioner = self.provisioner
        if not isinstance(kc, LimitedKernelClient) or provisioner is None:
            return
        if kc.iopub_disconnected() and provisioner.alive():
            self.iopub_cut = True

    def kill(self) -> None:
        """Kill the kernel and whatever it started, now."""
        if self.provisioner is not None:
            self.provisioner.kill_now()

    def kill_for_time(self) -> None:
        """The notebook ran past its limit: kill its kernel (the watchdog's thread)."""
        provisioner = self.provisioner
        if provisioner is None or not provisioner.alive():
            return
        self.killed_for_time = True
        provisioner.kill_now()

    def interrupt(self, km: KernelManager | None) -> None:
        """Interrupt the running cell (a message or signal, as the kernel wants)."""
        if km is None:
            return
        try:
            task = asyncio.ensure_future(km.interrupt_kernel())
        except RuntimeError:
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
