"""Run the real `consilium` app in-process, as a user would from a shell."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    from consilium_cli.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)
