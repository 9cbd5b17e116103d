"""The kernel provisioner that starts every grading kernel in its student's sandbox.

jupyter_client starts, polls, signals and kills a kernel through a provisioner
(`KernelProvisionerBase`); this one is registered as the entry point
`grader-sandbox` of `jupyter_client.kernel_provisioners` (pyproject.toml), and the
grading config makes it the default (`KernelProvisionerFactory.
default_provisioner_name`). It starts each kernel in the StudentSandbox open in
this context (grader.kernel.sandbox), or, when none is, in one of its own made from
its configuration (a fresh kernel, not forked). After the kernel ended, `outcome()`
says what happened to it, for the grader's statuses (grader.nbx.breaches).
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Bool, Integer

from ..model import Limits
from .sandbox import Kernel, SpawnedKernel, StudentSandbox

ENTRY_POINT = "grader-sandbox"


@dataclass(frozen=True)
class KernelOutcome:
    """What happened to one kernel, as the sandbox saw it."""

    sandboxed: bool
    limits: Limits
    returncode: int | None  # None: still running (or never started)
    died_by: int | None  # the signal that ended it, if one did
    cpu_seconds: float  # the most CPU time seen (sandboxed only)
    peak_mb: int  # the largest address space seen (sandboxed only)
    oom_killed: bool  # the memory cgroup killed a process while it ran
    process_limit_hit: bool
    log: str  # the end of what it (and its fork server) wrote

    @property
    def started(self) -> bool:
        return self.returncode is not None or self.died_by is not None


class SandboxProvisioner(KernelProvisionerBase):
    """Starts a kernel in the current StudentSandbox (or one of its own)."""

    sandbox = Bool(
        False, help="Without an open StudentSandbox: run the kernel in bubblewrap."
    ).tag(config=True)
    cpu_seconds = Integer(
        0, help="Without a StudentSandbox: CPU seconds (0: none)."
    ).tag(config=True)
    memory_mb = Integer(
        0, help="Without a StudentSandbox: memory in MB (0: none)."
    ).tag(config=True)
    processes = Integer(0, help="Without a StudentSandbox: processes (0: none).").tag(
        config=True
    )
    file_mb = Integer(
        64, help="Without a StudentSandbox: MB per file and of /tmp."
    ).tag(config=True)

    box: StudentSandbox | None = None
    kernel: Kernel | None = None
    _own_box = False
    _outcome: KernelOutcome | None = None

    # --- starting -------------------------------------------------------------

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Choose the sandbox, write the connection file where the kernel reads it,
        and build ipykernel's command line."""
        self.box = StudentSandbox.current()
        if self.box is None:
            limits = Limits(
                cpu_seconds=self.cpu_seconds, memory_mb=self.memory_mb,
                processes=self.processes, file_mb=self.file_mb,
            )  # fmt: skip
            self.box = StudentSandbox(limits, sandbox=self.sandbox, fork=False)
            self.box.open()
            self._own_box = True
        km = self.parent
        self._paths = self.box.kernel_paths()
        km.transport = "ipc"
        km.ip = str(self._paths.socket_prefix)
        km.connection_file = str(self._paths.connection_file)
        if self.box.sandboxed:  # a signal to bwrap would end the whole sandbox
            self.kernel_spec.interrupt_mode = "message"
        km.write_connection_file()
        self.connection_info = km.get_connection_info()
        command = km.format_kernel_cmd(
            extra_arguments=kwargs.pop("extra_arguments", [])
        )
        return await super().pre_launch(cmd=command, **kwargs)

    async def launch_kernel(
        self, cmd: list[str], **kwargs: Any
    ) -> KernelConnectionInfo:
        """Start the kernel in the sandbox (KernelDidNotStart when it cannot)."""
        cwd = Path(kwargs.get("cwd") or os.getcwd()).resolve()
        env = dict(kwargs.get("env") or os.environ)
        try:
            self.kernel = self.box.start(cmd, self._paths, cwd=cwd, env=env)
        except BaseException:
            self.box.forget(self._paths)
            if self._own_box:
                self.box.close()
            raise
        return self.connection_info

    async def post_launch(self, **kwargs: Any) -> None:
        """Seal the kernel's socket folder once it has bound its sockets."""
        await asyncio.to_thread(self.box.seal, self.kernel)

    # --- a running kernel -----------------------------------------------------

    @property
    def has_process(self) -> bool:
        return self.kernel is not None

    async def poll(self) -> int | None:
        return self.kernel.process.poll() if self.kernel else 0

    async def wait(self) -> int | None:
        while self.kernel is not None and self.kernel.process.poll() is None:
            await asyncio.sleep(0.05)
        return self.kernel.process.poll() if self.kernel else 0

    async def send_signal(self, signum: int) -> None:
        if self.kernel is not None:
            self.kernel.process.signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if self.kernel is not None:
            self.kernel.process.kill()

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    def kill_now(self) -> None:
        """SIGKILL the kernel and all it started, from any thread."""
        if self.kernel is not None and self.kernel.process.poll() is None:
            self.kernel.process.kill()

    def alive(self) -> bool:
        """Whether the kernel still runs."""
        return self.kernel is not None and self.kernel.process.poll() is None

    # --- after it ended -------------------------------------------------------

    async def cleanup(self, restart: bool = False) -> None:
        """Record what happened to the kernel, then remove its files."""
        if self.kernel is not None:
            self._outcome = self._observe()
            self.box.finish(self.kernel)
        if self._own_box and not restart:
            self.box.close()

    def outcome(self) -> KernelOutcome:
        """What happened to the kernel (after cleanup: as it was then)."""
        return self._outcome or self._observe()

    def _observe(self) -> KernelOutcome:
        box, kernel = self.box, self.kernel
        code = kernel.process.poll() if kernel else None
        died_by = -code if code is not None and code < 0 else None
        if (
            kernel is not None
            and box.sandboxed
            and isinstance(kernel.process, SpawnedKernel)
            and code is not None
            and code > 128
        ):
            died_by = code - 128  # bwrap exits 128 + its child's signal
        stats = kernel.stats if kernel else None
        return KernelOutcome(
            sandboxed=bool(box and box.sandboxed),
            limits=box.limits if box else Limits(),
            returncode=code,
            died_by=died_by,
            cpu_seconds=stats.kernel_cpu if stats else 0.0,
            peak_mb=stats.kernel_peak_mb if stats else 0,
            oom_killed=bool(kernel and box.oom_killed(kernel)),
            process_limit_hit=bool(stats and stats.breached),
            log=box.log_tail(kernel) if kernel and box else "",
        )
