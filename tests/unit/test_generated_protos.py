"""The committed stubs under node/transport/pb must be exactly what scripts/gen_protos.py produces."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_the_protos(tmp_path: Path) -> None:
    gen = _load_generator()
    try:
        gen.check_toolchain()
    except gen.ToolchainMismatch as e:
        pytest.skip(str(e))
    written = gen.generate(tmp_path)
    for fresh in written:
        committed = gen.OUT_DIR / fresh.name
        assert committed.exists(), f"{committed.name} is missing: run scripts/gen_protos.py"
        assert committed.read_text() == fresh.read_text(), f"{committed.name} is stale: run scripts/gen_protos.py"
    committed_names = {p.name for p in gen.OUT_DIR.iterdir() if p.is_file()}
    assert committed_names == {p.name for p in written}
