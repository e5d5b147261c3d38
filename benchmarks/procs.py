"""The processes a benchmark drives: the fake endpoint and `streamlit run` (RelayChat or the naive app)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# The baselines, run from their data folder on Streamlit's defaults.
BASELINE_APPS = {"naive": Path(__file__).with_name("naive_app.py"), "static": Path(__file__).with_name("static_app.py")}
MODEL = "fake-gpt"
API_KEY = "sk-bench-0000"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Settings an outer shell or a secrets.toml could leak into the app; empty values also block secrets.toml.
APP_ENV_NAMES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "DATABASE_URL", "RELAYCHAT_SECRET_KEY",
                 "RELAYCHAT_DATA_DIR", "RELAYCHAT_CONNECT_TIMEOUT", "RELAYCHAT_FIRST_TOKEN_TIMEOUT",
                 "RELAYCHAT_IDLE_TIMEOUT")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads included (/proc/<pid>/stat fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces: skip past it
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Process:
    """A started child process with its log file; stopped with SIGTERM, then SIGKILL."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(STOP_TIMEOUT)


_app_dir = ROOT


def use_app_dir(path: Path) -> None:
    """Benchmark the app in another checkout (e.g. an experiment) instead of this one."""
    global _app_dir
    _app_dir = path.resolve()


def spawn(name: str, command: list[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path = ROOT) -> Process:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    return Process(name, popen, log_path)


def wait_for_http(
    process: Process, url: str, expect: str | None = None, timeout: float = START_TIMEOUT,
    headers: dict[str, str] | None = None,
) -> float:
    """Poll `url` until it answers (with body `expect`, if given); returns the seconds it took."""
    started = time.monotonic()
    while True:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n{process.log()}")
        try:
            response = httpx.get(url, timeout=2, headers=headers)
            if response.status_code == 200 and (expect is None or response.text.strip() == expect):
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{process.name} did not answer {url} within {timeout:g} s:\n{process.log()}")
        time.sleep(0.02)


@dataclass
class FakeEndpoint:
    """`python -m tests.fake_openai` serving one fixed markdown answer at a fixed rate."""

    process: Process
    base_url: str

    def stop(self) -> None:
        self.process.stop()


def start_fake(tokens: int, rate: float, chars_per_token: int, log_dir: Path) -> FakeEndpoint:
    port = free_port()
    command = [sys.executable, "-m", "tests.fake_openai", "--port", str(port), "--tokens", str(tokens),
               "--rate", str(rate), "--chars-per-token", str(chars_per_token), "--api-key", API_KEY]
    process = spawn("fake endpoint", command, log_dir / f"fake-{port}.log")
    base_url = f"http://127.0.0.1:{port}/v1"
    wait_for_http(process, f"{base_url}/models", timeout=30, headers={"Authorization": f"Bearer {API_KEY}"})
    return FakeEndpoint(process, base_url)


@dataclass
class StreamlitApp:
    """A `streamlit run` process on a free port; `startup_seconds` is launch → /_stcore/health answering."""

    process: Process
    url: str
    startup_seconds: float
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.process.stop()


def app_env(data_dir: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in APP_ENV_NAMES}
    env.update({name: "" for name in APP_ENV_NAMES})
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=API_KEY, OPENAI_MODEL=MODEL,
               RELAYCHAT_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def start_streamlit(script: str, data_dir: Path, base_url: str, log_dir: Path, **extra_env: str) -> StreamlitApp:
    """`streamlit run <script>`: "app.py" from the app's folder (with its .streamlit/config.toml), "naive" or
    "static" from its data folder, so a baseline runs on Streamlit's defaults whatever RelayChat's config tunes."""
    baseline = script in BASELINE_APPS
    script = str(BASELINE_APPS[script]) if baseline else script
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", script,
               "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
               # Off is the default; said explicitly because websocket payload sizes must be the bytes on the wire.
               "--server.enableWebsocketCompression", "false"]
    env = app_env(data_dir, base_url, **extra_env)
    name = Path(script).stem
    process = spawn(f"streamlit {name}", command, log_dir / f"{name}-{port}.log", env,
                    cwd=data_dir if baseline else _app_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        startup = wait_for_http(process, f"{url}/_stcore/health", expect="ok")
    except BaseException:
        process.stop()
        raise
    return StreamlitApp(process, url, startup, data_dir, env)
