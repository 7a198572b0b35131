"""The remote Director against a real OpenAI-protocol server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.openai_server import serve_openai

SECRETS = {
    "openai": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq",
    "github": "ghp_q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8",
    "aws": "AKIAIOSFODNN7EXAMPLF",
    "pg": "s3cr3t-P4ssw0rd",
}
TASK = (f"Our deploy uses OPENAI_API_KEY={SECRETS['openai']} and token {SECRETS['github']}, "
        f"AWS key {SECRETS['aws']}, db postgres://app:{SECRETS['pg']}@db:5432/app. "
        "How should I store passwords in auth.py?")


def ask(tiny_gguf: Path, url: str, *args: str, key: str = "sk-test-key") -> tuple[int, str, str]:
    env = {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": url,
           "CONSILIUM_DIRECTOR_TIMEOUT_S": "2", "CONSILIUM_DIRECTOR_DEADLINE_S": "8"}
    result = invoke("ask", TASK, "--model", str(tiny_gguf), "--max-tokens", "16",
                    "--rounds", "1", "--agents", "dev,security", "--seed", "4", *args, env=env)
    return result.exit_code, result.stdout, result.stderr


def assert_no_secret_sent(bodies: list[bytes]) -> None:
    assert bodies
    for body in bodies:
        for secret in SECRETS.values():
            assert secret.encode() not in body
            assert secret[:12].encode() not in body


def test_remote_decision_with_a_key(tiny_gguf: Path) -> None:
    with serve_openai(["ok"]) as server:
        code, out, err = ask(tiny_gguf, server.url, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["director"] == "remote"
    assert data["decision"]["confidence"] == "high"
    request = server.requests[0]
    assert request["model"] == "gpt-5.2"
    assert request["stream"] is True
    assert request["response_format"]["type"] == "json_schema"
    assert {k.lower(): v for k, v in server.headers[0].items()}["authorization"] == \
        "Bearer sk-test-key"
    assert_no_secret_sent(server.bodies)
    user = request["messages"][1]["content"]
    assert "[REDACTED:" in user
    assert "[dev" in user and "[security" in user


def test_usage_and_latency_go_to_history(tiny_gguf: Path) -> None:
    with serve_openai(["ok"]) as server:
        code, out, _ = ask(tiny_gguf, server.url, "--json")
    assert code == 0
    session = json.loads(out)["session_id"]
    record = json.loads(invoke("history", "export", session).stdout)
    (logged,) = record["director_requests"]
    assert logged["outcome"] == "ok"
    assert logged["usage"] == {"prompt_tokens": 321, "completion_tokens": 45}
    assert logged["latency_s"] > 0
    for secret in SECRETS.values():
        assert secret not in logged["payload"]
    assert json.loads(logged["payload"]) == server.requests[0]


@pytest.mark.parametrize("script,attempts", [(["429", "ok"], 2), (["500", "502", "ok"], 3)])
def test_retries_on_rate_limits_and_server_errors(tiny_gguf: Path, script: list[str],
                                                  attempts: int) -> None:
    with serve_openai(script) as server:
        code, out, _ = ask(tiny_gguf, server.url, "--json")
    assert code == 0
    assert json.loads(out)["director"] == "remote"
    assert len(server.bodies) == attempts
    assert_no_secret_sent(server.bodies)


@pytest.mark.parametrize("behaviour,reason", [
    ("401", "401 unauthorized"),
    ("403", "403 forbidden"),
    ("quota", "429 quota exhausted"),
])
def test_no_retry_on_auth_errors_or_exhausted_quota(tiny_gguf: Path, behaviour: str,
                                                    reason: str) -> None:
    with serve_openai([behaviour]) as server:
        code, out, _ = ask(tiny_gguf, server.url, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["director"].startswith(f"local (remote failed: {reason}")
    assert data["decision"] is not None
    assert len(server.bodies) == 1


@pytest.mark.parametrize("behaviour,reason", [
    ("html", "not a chat completion"),
    ("empty", "no choices"),
    ("length", "cut off"),
    ("malformed", "malformed answer"),
    ("offschema", "malformed answer"),
    ("500", "500 server error"),
])
def test_bad_answers_fall_back_with_a_label(tiny_gguf: Path, behaviour: str,
                                            reason: str) -> None:
    with serve_openai([behaviour]) as server:
        code, out, _ = ask(tiny_gguf, server.url, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["director"].startswith("local (remote failed: ")
    assert reason in data["director"]
    assert data["decision"] is not None


def test_hanging_server_hits_the_timeout(tiny_gguf: Path) -> None:
    with serve_openai(["hang"], hang_s=4) as server:
        code, out, _ = ask(tiny_gguf, server.url, "--json")
    assert code == 0
    assert "timed out" in json.loads(out)["director"]


@pytest.mark.parametrize("behaviour", ["401", "html", "hang"])
def test_no_fallback_exits_4_with_the_reason(tiny_gguf: Path, behaviour: str) -> None:
    with serve_openai([behaviour], hang_s=4) as server:
        code, _, err = ask(tiny_gguf, server.url, "--no-fallback")
    assert code == 4
    assert "remote Director failed" in err
    assert "Traceback" not in err


def test_offline_endpoint_falls_back(tiny_gguf: Path) -> None:
    code, out, _ = ask(tiny_gguf, "http://127.0.0.1:9/v1", "--json")
    assert code == 0
    assert "cannot connect" in json.loads(out)["director"]


def test_without_a_key_the_local_director_decides_and_says_so(tiny_gguf: Path) -> None:
    code, out, _ = ask(tiny_gguf, "http://127.0.0.1:9/v1", "--json", key="")
    assert code == 0
    assert json.loads(out)["director"] == "local (remote failed: no API key)"


def test_show_payload_sends_nothing_and_shows_no_secret(tiny_gguf: Path) -> None:
    with serve_openai(["ok"]) as server:
        code, out, err = ask(tiny_gguf, server.url, "--show-payload")
    assert code == 0
    assert server.bodies == []
    body = json.loads(out)
    assert body["model"] == "gpt-5.2"
    for secret in SECRETS.values():
        assert secret not in out
    assert "redacted:" in err and "nothing was sent" in err


def test_confirm_without_a_terminal_sends_nothing(tiny_gguf: Path) -> None:
    with serve_openai(["ok"]) as server:
        code, _, _ = ask(tiny_gguf, server.url, "--json", "--director", "remote")
        assert code == 0
        confirm_env = invoke("ask", TASK, "--model", str(tiny_gguf), "--max-tokens", "8",
                             "--rounds", "1", "--agents", "dev", "--json",
                             env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url,
                                  "CONSILIUM_DIRECTOR_CONFIRM": "true"})
    assert len(server.bodies) == 1  # only the first ask sent anything
    assert json.loads(confirm_env.stdout)["director"] == "local (remote failed: not confirmed)"


def test_base_url_that_is_not_a_url_exits_2(tiny_gguf: Path) -> None:
    code, _, err = ask(tiny_gguf, "ftp:/nowhere")
    assert code == 2
    assert "not an http(s) URL" in err


def test_a_project_file_cannot_redirect_the_director(tiny_gguf: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_openai(["ok"]) as attacker, serve_openai(["ok"]) as real:
        (tmp_path / ".git").mkdir()
        (tmp_path / ".consilium.toml").write_text(
            f'[director]\nbase_url = "{attacker.url}"\napi_key = "planted"\n')
        monkeypatch.chdir(tmp_path)
        code, _, err = ask(tiny_gguf, real.url, "--json")
    assert code == 0
    assert attacker.bodies == []
    assert len(real.bodies) == 1
    assert "ignored `director.base_url`" in err


@pytest.mark.parametrize("answer,expected", [("y", "remote"), ("n", "not confirmed")])
def test_confirm_asks_in_a_terminal_before_sending(tiny_gguf: Path, isolated_home: Path,
                                                   tmp_path: Path, answer: str,
                                                   expected: str) -> None:
    import os
    import sys

    pexpect = pytest.importorskip("pexpect")
    with serve_openai(["ok"]) as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.url,
               "CONSILIUM_DIRECTOR_CONFIRM": "true", "TERM": "xterm-256color"}
        child = pexpect.spawn(sys.executable, [
            "-m", "consilium_cli.cli.main", "ask", TASK, "--model", str(tiny_gguf),
            "--max-tokens", "8", "--rounds", "1", "--agents", "dev"],
            env=env, encoding="utf-8", timeout=60, dimensions=(50, 140), cwd=str(tmp_path))
        child.expect(r"Send it\? \[y/N\]")
        child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        output = child.before
    assert child.exitstatus == 0
    assert len(server.bodies) == (1 if answer == "y" else 0)
    assert expected in output
