"""Test-suite wiring shared by every tier.

Async tests run on a fresh event loop each (no pytest-asyncio): every grpc.aio channel and aiohttp session is
created inside the test's own loop, which avoids the "attached to a different loop" failures of loop-scoped
fixtures (grpc#32480). Fixtures stay synchronous.
"""

from __future__ import annotations

import asyncio
import inspect
import os

import pytest

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
