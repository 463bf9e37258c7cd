"""Debian's chromium, driven by Playwright for Python: never a browser that Playwright downloads.

Chromium is a system package (`scripts/install_system_packages.sh`, run by `make test`). It is started headless with
the flags a closed network and a root user need: no sandbox (root), and none of the background connections that a
machine without internet would refuse, many at a time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["CHROMIUM_ARGS", "chromium_executable", "missing_browser_reason"]

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def chromium_executable() -> str | None:
    """`$SIMCLUSTER_CHROMIUM`, else Debian's `/usr/bin/chromium`, else a `chromium` on the PATH; None without one."""
    configured = os.environ.get("SIMCLUSTER_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    if _DEBIAN_CHROMIUM.exists():
        return str(_DEBIAN_CHROMIUM)
    return shutil.which("chromium")


def missing_browser_reason() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401 - only whether it imports
    except ImportError:
        return "playwright is not installed: `pip install -e '.[test]'`"
    if chromium_executable() is None:
        return (
            "no chromium at /usr/bin/chromium (Debian package `chromium`): `make test` installs it when run as root,"
            " through scripts/install_system_packages.sh; or point SIMCLUSTER_CHROMIUM at a chromium binary"
        )
    return None
