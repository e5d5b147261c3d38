"""End-to-end fixtures: the real app (`streamlit run app.py`) in a subprocess, driven by headless Chromium.

Every test gets its own app process and data folder, pointed at the test's `fake_openai`; the browser is shared by
the session, each test gets a fresh context (no cookies or storage carried over).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import httpx
import pytest

from tests.fake_openai import FakeOpenAI

if TYPE_CHECKING:  # imported lazily, so running only the other tests never loads playwright
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP_KEY = "sk-e2e-test-key-0001"
APP_MODEL = "fake-gpt"
STARTUP_TIMEOUT = 60.0  # seconds for `streamlit run` to answer /_stcore/health on a loaded machine
STOP_TIMEOUT = 10.0
PAGE_TIMEOUT_MS = 30_000  # default for every expect/wait: generous, a busy 2-core box is slow to render
# Server-side settings an outer shell or a secrets.toml could leak in; an empty value also blocks the secrets.toml
# fallback (services/config.py treats "" as set-but-empty).
APP_ENV_NAMES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "DATABASE_URL", "RELAYCHAT_SECRET_KEY",
                 "RELAYCHAT_DATA_DIR", "RELAYCHAT_CONNECT_TIMEOUT", "RELAYCHAT_FIRST_TOKEN_TIMEOUT",
                 "RELAYCHAT_IDLE_TIMEOUT", "RELAYCHAT_REPLY_DEADLINE", "RELAYCHAT_MAX_REPLY_MB",
                 "RELAYCHAT_MAX_REPLY_TOKENS")


class RunningApp(NamedTuple):
    """A started `streamlit run app.py`: its URL, its process and its data folder (SQLite db + secret)."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Keep each phase's report on the item so fixtures can tell, at teardown, whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


# --- the browser -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium() -> None:
    # Session-scoped autouse fixtures are set up first: skip before any browser or app process is started.
    if not CHROMIUM.exists():
        pytest.skip(f"end-to-end tests need Chromium at {CHROMIUM}, which is not installed: apt-get install chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, shared by the session (Playwright cannot download its own browsers here)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="end-to-end tests need playwright: pip install playwright")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A page in a fresh browser context; on failure a screenshot is saved under the test's tmp_path."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    if _failed(request):
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the page at failure: {shot}")
        except Exception as exc:  # the page may be gone; the log matters more
            print(f"no screenshot: {exc}")
    context.close()


# --- the app -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The process environment: the caller's, with every RelayChat setting cleared, then `settings`."""
    env = {name: value for name, value in os.environ.items() if name not in APP_ENV_NAMES}
    env.update({name: "" for name in APP_ENV_NAMES})
    env.update(RELAYCHAT_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


class AppLauncher:
    """Starts app processes for one test and stops them all at its end (a test may restart the app)."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self._started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, data_dir: Path | None = None, **settings: str) -> RunningApp:
        """`streamlit run app.py` on a free port with `settings` as environment; returns once it is healthy."""
        data_dir = data_dir or self._tmp_path / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log_path = self._tmp_path / f"streamlit-{port}.log"
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=app_env(data_dir, **settings), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append((process, log_path))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode} at start:\n{log_path.read_text()}", pytrace=False)
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text.strip() == "ok":
                    return RunningApp(url, process, data_dir)
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {STARTUP_TIMEOUT:g} s:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.2)

    def stop_all(self, show_logs: bool) -> None:
        for process, log_path in self._started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(STOP_TIMEOUT)
            if show_logs:
                print(f"----- {log_path} (exit {process.returncode}) -----\n{log_path.read_text(errors='replace')}")


@pytest.fixture
def launcher(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[AppLauncher]:
    launcher = AppLauncher(tmp_path)
    yield launcher
    launcher.stop_all(show_logs=_failed(request))


@pytest.fixture
def app(launcher: AppLauncher, fake_openai: FakeOpenAI, tmp_path: Path) -> RunningApp:
    """The app configured (OPENAI_BASE_URL etc.) for the test's fake endpoint, which checks the key."""
    fake_openai.api_key = APP_KEY
    return launcher.start(
        tmp_path / "data", OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY=APP_KEY, OPENAI_MODEL=APP_MODEL
    )
