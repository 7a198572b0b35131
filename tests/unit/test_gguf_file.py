"""The GGUF header check that runs before llama.cpp sees a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.errors import ExitCode, ModelInvalidError, ModelNotFoundError
from consilium_cli.llm.gguf_file import read_gguf
from tests.support.random_gguf import TINY, write_random_qwen2


def test_reads_the_tiny_model(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    assert info.architecture == "qwen2"
    assert info.context_length == TINY.n_ctx_train
    assert info.vocab_size == TINY.n_vocab
    assert "im_start" in (info.chat_template or "")
    assert info.file_type == "F32"
    assert info.data_end <= info.size


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        read_gguf(tmp_path / "nope.gguf")
    assert err.value.exit_code == ExitCode.MODEL
    assert "consilium models pull" in err.value.hint


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelInvalidError, match="is a directory"):
        read_gguf(tmp_path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.gguf"
    path.write_text("these are not weights, just some words in a file\n" * 3)
    with pytest.raises(ModelInvalidError, match="is not a GGUF model"):
        read_gguf(path)


def test_tiny_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with pytest.raises(ModelInvalidError, match="0 bytes"):
        read_gguf(path)


@pytest.mark.parametrize("keep", [0.5, 0.999, 0.0001])
def test_truncated_file(tiny_gguf: Path, tmp_path: Path, keep: float) -> None:
    data = tiny_gguf.read_bytes()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[: max(24, int(len(data) * keep))])
    with pytest.raises(ModelInvalidError, match="truncated"):
        read_gguf(path)


def test_unsupported_architecture(tmp_path: Path) -> None:
    import gguf

    path = tmp_path / "other.gguf"
    writer = gguf.GGUFWriter(str(path), "mamba2")
    writer.add_tensor("x", __import__("numpy").zeros(4, dtype="float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelInvalidError, match="architecture 'mamba2' is not supported"):
        read_gguf(path)


def test_embedding_purpose_checks_other_architectures(tiny_gguf: Path) -> None:
    assert read_gguf(tiny_gguf, purpose="embedding").architecture == "qwen2"


def test_f16_tensors_are_sized_correctly(tmp_path: Path) -> None:
    path = write_random_qwen2(tmp_path / "f16.gguf", TINY, dtype="f16")
    info = read_gguf(path)
    assert info.file_type == "F16"
    assert info.data_end == info.size or info.data_end <= info.size
