"""Drive JupyterLab and Notebook 7 in Debian's Chromium, as a student would.

One `JupyterServer` per app serves a folder with the helper and the five solved
notebooks; one `Chromium` per test session opens them. `Session.run(stem)` opens a
notebook, runs every cell through the app's own Run menu, saves it with Ctrl+S and
reads the saved file back from disk; its page stays open for the slider tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    Route,
    sync_playwright,
)

from grader.course import HELPER_PACKAGE, NOTEBOOKS, RELEASE_DIR, REPO
from grader.demo.submissions import solved

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}


@dataclass(frozen=True)
class App:
    """A Jupyter front end: the module that starts it and where it opens a file."""

    name: str
    module: str
    url: str  # with {path}

    def notebook_url(self, path: str) -> str:
        """The address, below the server root, that opens one notebook."""
        return self.url.format(path=path)


APPS = {
    "lab": App("lab", "jupyterlab", "/lab/tree/{path}"),
    "notebook": App("notebook", "notebook", "/notebooks/{path}"),
}

# The kernel indicator both apps show (Lab in its status bar, Notebook 7 in the
# toolbar), and the prompt of every code cell: "[ ]:", "[*]:" or "[12]:".
KERNEL_STATUS = ".jp-Notebook-ExecutionIndicator"
CODE_PROMPTS = ".jp-CodeCell .jp-InputPrompt"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_course_folder(root: Path) -> None:
    """The released helper and every notebook solved, as a student's folder."""
    shutil.copytree(RELEASE_DIR / HELPER_PACKAGE, root / HELPER_PACKAGE)
    for stem in NOTEBOOKS:
        nbformat.write(solved(stem), root / f"{stem}.ipynb")


def wait_until(
    condition: Callable[[], object], timeout: float, interval: float = 0.2
) -> object:
    """condition()'s first truthy value, or None once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class JupyterServer:
    """A Jupyter server on 127.0.0.1, isolated from ~/.jupyter, for one app."""

    def __init__(self, app: App, root: Path, state: Path):
        """root: the folder it serves; state: where its settings and log go."""
        self.app = app
        self.root = root
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = state / f"{app.name}-server.log"
        settings = state / "lab-settings"
        news = settings / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        # No "get notified about Jupyter news?" toast over the screenshots.
        (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        _as_a_students_install(state / "config")
        venv_bin = Path(sys.executable).parent
        self.env = dict(
            os.environ,
            PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            JUPYTER_CONFIG_DIR=str(state / "config"),
            JUPYTER_RUNTIME_DIR=str(state / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
            IPYTHONDIR=str(state / "ipython"),
        )
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until /api/status answers."""
        command = [
            sys.executable, "-m", self.app.module,
            "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]  # fmt: skip
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if not wait_until(self._ready, timeout):
            raise RuntimeError(
                f"{self.app.module} did not answer /api/status within {timeout} s"
                f"\n{self.log_tail()}"
            )

    def _ready(self) -> bool:
        """True once /api/status answers; an exited server raises with its log."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.app.module} exited with {self.process.returncode}"
                f"\n{self.log_tail()}"
            )
        try:
            self.api("GET", "/api/status", timeout=2)
            return True
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def api(self, method: str, path: str, timeout: float = 10) -> bytes:
        """One authorised call to the server's REST API (HTTPError unless 2xx)."""
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    def running_kernels(self) -> list[dict]:
        """The kernels the server has running (GET /api/kernels)."""
        return json.loads(self.api("GET", "/api/kernels"))

    def stop(self) -> None:
        """Shut every kernel down through the API (a server killed for hanging
        could not), then terminate the server; kill it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            for kernel in self.running_kernels():
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (urllib.error.URLError, OSError, ValueError):
            pass  # the server is going anyway; its log says why
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# What nbgrader adds to JupyterLab and Notebook 7 in the test venv: a student's install
# (requirements-students.txt) has none of it.
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)


def _as_a_students_install(config: Path) -> None:
    """Switch off nbgrader's extensions in this server's own config folder, so the
    pages (and the screenshots) look as in a student's install."""
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    page = {"disabledExtensions": {NBGRADER_LAB_EXTENSION: True}}
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page))
    server = {"ServerApp": {"jpserver_extensions": dict.fromkeys(
        NBGRADER_SERVER_EXTENSIONS, False
    )}}  # fmt: skip
    (config / "jupyter_server_config.json").write_text(json.dumps(server))


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with nothing phoning home."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


@contextlib.contextmanager
def headless_chromium() -> Iterator[Browser]:
    """Debian's Chromium for a module's tests (a missing one fails the test)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup-dev`", pytrace=False)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Run:
    """A notebook after Run All and Ctrl+S: its open page and the file saved."""

    stem: str
    page: Page
    saved: nbformat.NotebookNode
    settled: bool  # False: the kernel still looked busy when the wait timed out


@dataclass
class Session:
    """One app's server and a browser context on it; each notebook runs once."""

    server: JupyterServer
    browser: Browser
    runs: dict[str, Run | Exception] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """A fresh browser context (cookies, storage) for this server."""
        self.context = self.browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(30_000)

    @property
    def app(self) -> App:
        """The front end this session drives."""
        return self.server.app

    def close(self) -> None:
        """Close every page of this session."""
        self.context.close()

    def run(self, stem: str) -> Run:
        """The notebook opened, run from the Run menu and saved (once per session)."""
        if stem not in self.runs:
            try:
                self.runs[stem] = self._run(stem)
            except Exception as error:
                self.runs[stem] = error
        outcome = self.runs[stem]
        if isinstance(outcome, Exception):
            raise outcome
        outcome.page.bring_to_front()  # Chromium throttles pages in the background
        return outcome

    def _run(self, stem: str) -> Run:
        """Open, wait for the kernel, Run All, wait for the end, save, read back."""
        path = self.server.root / f"{stem}.ipynb"
        page = self.context.new_page()
        url = self.app.notebook_url(f"{stem}.ipynb")
        page.goto(f"{self.server.base_url}{url}?token={self.server.token}")
        page.locator(".jp-NotebookPanel").first.wait_for()
        page.locator(f"{KERNEL_STATUS}[data-status='idle']").wait_for(timeout=60_000)
        panels = page.locator(".jp-NotebookPanel").count()
        assert panels == 1, f"{url} opened {panels} notebooks, expected just {stem}"

        cells = nbformat.read(path, as_version=4).cells
        code = sum(cell.cell_type == "code" for cell in cells)
        shown = wait_until(lambda: len(prompts(page)) == code, 30)
        assert shown, f"{url} shows {len(prompts(page))} of {code} code cells"
        assert not any(map(executed, prompts(page))), f"{stem} opened already run"
        run_all(page)
        if not wait_until(lambda: run_started(prompts(page)), 30):
            run_all(page)  # the click was lost (a loaded machine): nothing started
        settled = wait_for_cells(page, timeout=180)

        unsaved = path.stat().st_mtime_ns
        page.keyboard.press("Control+s")
        saved_in_time = wait_until(lambda: path.stat().st_mtime_ns != unsaved, 30)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{self.app.name}-{stem}.png")
        assert saved_in_time, f"Ctrl+S did not write {path.name} within 30 s"
        saved = nbformat.read(path, as_version=4)
        return Run(stem, page, saved, settled)


def run_all(page: Page) -> None:
    """Run → Run All Cells, from the app's menu."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def run_started(texts: list[str]) -> bool:
    """A cell is queued ("[*]:") or has run: Run All has begun."""
    return any("*" in text for text in texts) or any(map(executed, texts))


def prompts(page: Page) -> list[str]:
    """The code cells' prompts, e.g. ["[1]:", "[*]:", "[ ]:"]."""
    return [text.strip() for text in page.locator(CODE_PROMPTS).all_inner_texts()]


def kernel_idle(page: Page) -> bool:
    """The app's own kernel indicator says idle."""
    return page.locator(f"{KERNEL_STATUS}[data-status='idle']").count() == 1


def executed(prompt: str) -> bool:
    """A prompt such as "[12]:", of a cell that has run."""
    return prompt[1:-2].isdigit()


def wait_for_cells(page: Page, timeout: float) -> bool:
    """Wait until Run All is over: no cell queued, kernel idle (3 polls in a row).

    Run All marks every queued cell "[*]" at once and an error unmarks the cells
    after it, so the run has started once a cell was seen queued or has run.
    Returns False on timeout, so that the caller can still save and report what
    the file says.
    """
    started, quiet_polls = False, 0

    def over() -> bool:
        nonlocal started, quiet_polls
        texts = prompts(page)
        queued = any("*" in text for text in texts)
        started = started or run_started(texts)
        quiet = started and not queued and kernel_idle(page)
        quiet_polls = quiet_polls + 1 if quiet else 0
        return quiet_polls >= 3

    return bool(wait_until(over, timeout, interval=0.3))


def widget_cell(page: Page, label: str) -> Locator:
    """The code cell whose widget has a slider labelled exactly `label`."""
    return page.locator(".jp-CodeCell").filter(has=slider(page, label))


def slider(page: Page, label: str) -> Locator:
    """An ipywidgets 8 slider (noUiSlider) by its description label."""
    return page.locator(".widget-slider").filter(
        has=page.locator("label.widget-label").get_by_text(label, exact=True)
    )


def plot_images(cell: Locator) -> Locator:
    """The images drawn in the widget's Output area inside this cell."""
    return cell.locator(".widget-output img")


def settle(page: Page, images: Locator, timeout: float) -> bool:
    """Wait until the kernel is idle and the plot unchanged for about a second."""
    last = {"src": None, "quiet": 0}

    def steady() -> bool:
        sources = [image.get_attribute("src") for image in images.all()]
        quiet = kernel_idle(page) and sources == last["src"]
        last["src"] = sources
        last["quiet"] = last["quiet"] + 1 if quiet else 0
        return last["quiet"] >= 4

    return bool(wait_until(steady, timeout, interval=0.3))


def drag_slider(page: Page, label: str, position: float) -> None:
    """Drag the slider's handle with the mouse to `position`, then let go.

    position is in the handle's own units (aria-valuenow: the exponent for a log
    slider). As a student does it: ipywidgets sends the value once, on release.
    Arrow keys on the handle work in JupyterLab, but Notebook 7's keyboard
    shortcuts take them first, so the mouse is what works in both.
    """
    handle = slider(page, label).locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    low, high, now = (
        float(handle.get_attribute(f"aria-value{name}"))
        for name in ("min", "max", "now")
    )
    width = slider(page, label).locator(".noUi-base").bounding_box()["width"]
    grip = handle.bounding_box()
    x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + (position - now) / (high - low) * width, y, steps=8)
    page.mouse.up()


# axe-core, the accessibility engine, as the pip package axe-playwright-python
# bundles it (pinned in requirements-dev.txt): the WCAG 2.1 A and AA rules.
AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the open page, one line each:
    the rule, how many elements, the first element and what is wrong with it.
    (Playwright evaluates the script through the DevTools protocol, which the
    page's Content-Security-Policy does not govern.)"""
    page.evaluate(AXE_SCRIPT)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    lines = []
    for violation in found["violations"]:
        node = violation["nodes"][0]
        checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
        why = "; ".join(check["message"] for check in checks)
        count = len(violation["nodes"])
        lines.append(f"{violation['id']} ({count}): {node['html'][:200]}: {why}")
    return lines


def offline_context(browser: Browser, **options) -> tuple[BrowserContext, list[str]]:
    """A browser context with the network off: every request that is not a file
    on disk is aborted and listed (the second value)."""
    context = browser.new_context(offline=True, **options)
    requested: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    return context, requested
