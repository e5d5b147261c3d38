"""Until a sign-in mode exists, the app listens on this machine only and says at start why."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import httpx
import pytest

from services.runtime import start_runtime
from tests.conftest import make_settings
from tests.e2e.conftest import ROOT, STARTUP_TIMEOUT, app_env, free_port


def test_start_says_that_sharing_needs_a_sign_in_mode(tmp_path, database_url, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="relaychat"):
        start_runtime(make_settings(tmp_path / "data", database_url)).close()
    assert any("sign-in mode" in r.getMessage() and "RELAYCHAT_AUTH" in r.getMessage() for r in caplog.records)


def test_the_run_command_of_the_readme_listens_on_127_0_0_1_only(tmp_path) -> None:
    port = free_port()
    # As the README runs it: no --server.address, so .streamlit/config.toml decides.
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.headless", "true", "--server.fileWatcherType", "none"]
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=app_env(tmp_path / "data"), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((tmp_path / "streamlit.log").read_text())
            time.sleep(0.2)
        # Another address of this machine stands for the network: nothing listens there.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.2:{port}/_stcore/health", timeout=2)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
