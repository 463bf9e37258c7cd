"""`simcluster --version` from the package metadata, and click's shell completion script."""

from __future__ import annotations

from importlib import metadata

from click.testing import CliRunner

from cluster.cli import cli


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(cli, ["--version"], prog_name="simcluster")
    assert result.exit_code == 0
    assert result.output == f"simcluster, version {metadata.version('simcluster')}\n"


def test_bash_completion_script_is_what_the_readme_tells_users_to_source() -> None:
    result = CliRunner().invoke(cli, [], prog_name="simcluster", env={"_SIMCLUSTER_COMPLETE": "bash_source"})
    assert result.exit_code == 0
    assert "_simcluster_completion()" in result.output
    assert "complete -o nosort -F _simcluster_completion simcluster" in result.output
