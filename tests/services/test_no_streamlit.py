"""services/ and db/ never import Streamlit: they run in worker threads, scripts and tests without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IMPORT_ALL = """
import importlib, pkgutil, sys
import db, services
names = [m.name for package in (db, services) for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
print(len(names), sorted(m for m in sys.modules if m == "streamlit" or m.startswith("streamlit.")))
"""


def test_services_and_db_import_without_streamlit():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    count, loaded = result.stdout.split(" ", 1)
    assert int(count) >= 10  # every module was found, not an empty walk
    assert loaded.strip() == "[]"
