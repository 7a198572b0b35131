"""The diff parser on diffs that git (and diff -u) really produce."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.review.diff import DiffParseError, FileDiff, parse_diff, unquote_c
from tests.support.git_repo import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def by_path(text: str) -> dict[str, FileDiff]:
    return {f.path: f for f in parse_diff(text).files}


def test_modified_file_lines_and_numbers(repo: GitRepo) -> None:
    repo.write("a.py", "".join(f"line {i}\n" for i in range(1, 21)))
    repo.commit()
    repo.write("a.py", "".join(f"line {i}\n" if i != 10 else "changed\n" for i in range(1, 21)))
    f = by_path(repo.git("diff"))["a.py"]
    assert f.status == "modified" and not f.binary
    (hunk,) = f.hunks
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (7, 7, 7, 7)
    added = [ln for ln in hunk.lines if ln.kind == "added"]
    assert [(ln.text, ln.new_no) for ln in added] == [("changed", 10)]
    removed = [ln for ln in hunk.lines if ln.kind == "removed"]
    assert [(ln.text, ln.old_no, ln.new_no) for ln in removed] == [("line 10", 10, None)]
    assert list(hunk.new_line_numbers()) == list(range(7, 14))
    assert (f.added, f.removed) == (1, 1)


def test_rename_with_edit_copy_and_pure_rename(repo: GitRepo) -> None:
    body = "".join(f"def f{i}():\n    return {i}\n" for i in range(10))
    repo.write("old_name.py", body)
    repo.write("moved.txt", "same\ncontent\n")
    repo.commit()
    repo.git("mv", "old_name.py", "new_name.py")
    repo.write("new_name.py", body.replace("return 3", "return 33"))
    (repo.path / "docs").mkdir()
    repo.git("mv", "moved.txt", "docs/moved.txt")
    repo.write("copy.py", body)
    repo.git("add", "-A")
    files = by_path(repo.git("diff", "--cached", "-M", "-C", "--find-copies-harder"))
    renamed = files["new_name.py"]
    assert renamed.status == "renamed" and renamed.old_path == "old_name.py"
    assert renamed.similarity is not None and renamed.similarity > 50
    assert [ln.text for h in renamed.hunks for ln in h.lines if ln.kind == "added"] == \
        ["    return 33"]
    pure = files["docs/moved.txt"]
    assert pure.status == "renamed" and pure.old_path == "moved.txt" and pure.hunks == ()
    copied = files["copy.py"]
    assert copied.status == "copied" and copied.old_path in ("old_name.py", "new_name.py")
    assert "from" in copied.describe()


def test_mode_change_new_and_deleted_files(repo: GitRepo) -> None:
    repo.write("run.sh", "#!/bin/sh\necho hi\n")
    repo.write("gone.py", "x = 1\ny = 2\n")
    repo.commit()
    (repo.path / "run.sh").chmod(0o755)
    (repo.path / "gone.py").unlink()
    repo.write("new.py", "print('new')\n")
    repo.git("add", "-A")
    files = by_path(repo.git("diff", "--cached"))
    mode = files["run.sh"]
    assert (mode.old_mode, mode.new_mode, mode.hunks) == ("100644", "100755", ())
    assert "mode 100644 -> 100755" in mode.describe()
    gone = files["gone.py"]
    assert gone.status == "deleted" and gone.new_path is None and gone.removed == 2
    assert list(gone.hunks[0].new_line_numbers()) == []
    new = files["new.py"]
    assert new.status == "added" and new.old_path is None and new.added == 1


def test_binary_marker_and_binary_patch(repo: GitRepo) -> None:
    repo.write("img.bin", bytes(range(256)))
    repo.write("a.txt", "a\n")
    repo.commit()
    repo.write("img.bin", bytes(reversed(range(256))))
    repo.write("a.txt", "b\n")
    plain = by_path(repo.git("diff"))
    assert plain["img.bin"].binary and plain["img.bin"].hunks == ()
    patch = by_path(repo.git("diff", "--binary"))
    assert patch["img.bin"].binary
    assert patch["a.txt"].added == 1  # parsing went on after the base85 blocks


def test_no_newline_at_end_of_file(repo: GitRepo) -> None:
    repo.write("a.txt", "one\ntwo")
    repo.commit()
    repo.write("a.txt", "one\ntwo\nthree")
    (hunk,) = by_path(repo.git("diff"))["a.txt"].hunks
    marked = [(ln.kind, ln.text) for ln in hunk.lines if ln.no_newline]
    assert marked == [("removed", "two"), ("added", "three")]
    assert hunk.new_len == 3


def _conflicting_merge(repo: GitRepo) -> None:
    repo.write("f.txt", "a\nb\nc\nd\ne\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("f.txt", "a\nB-side\nc\nd\ne\n")
    repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "a\nB-main\nc\nd\nE\n")
    repo.commit("main")
    repo.git("merge", "-q", "side", check=False)


def test_combined_diff_of_a_merge_commit(repo: GitRepo) -> None:
    _conflicting_merge(repo)
    repo.write("f.txt", "a\nB-resolved\nc\nd\nE\nextra\n")
    repo.commit("merge")
    text = repo.git("show", "--cc", "HEAD")
    diff = parse_diff(text)
    assert diff.envelope_lines > 0  # the commit header was skipped
    (f,) = diff.files
    assert f.combined and f.path == "f.txt"
    (hunk,) = f.hunks
    assert hunk.parents == 2
    added = {ln.text: ln.new_no for ln in hunk.lines if ln.kind == "added"}
    # "E" is new against the side branch only; it still lies on the new side.
    assert added == {"B-resolved": 2, "E": 5, "extra": 6}
    removed = sorted(ln.text for ln in hunk.lines if ln.kind == "removed")
    assert removed == ["B-main", "B-side", "e"]
    assert max(ln.new_no or 0 for ln in hunk.lines) == hunk.new_end == 6


def test_combined_diff_during_a_conflict(repo: GitRepo) -> None:
    _conflicting_merge(repo)
    f = by_path(repo.git("diff"))["f.txt"]
    assert f.combined
    texts = [ln.text for h in f.hunks for ln in h.lines]
    assert any(t.startswith("<<<<<<<") for t in texts)


def test_git_log_and_format_patch_envelopes(repo: GitRepo) -> None:
    repo.write("a.py", "x = 1\n")
    repo.commit("one")
    repo.write("a.py", "x = 2\n")
    repo.write("b.py", "y = 1\n")
    repo.commit("two\n\nA body line that says diff --git a/x b/x but is prose.")
    log = parse_diff(repo.git("log", "-p"))
    assert [f.path for f in log.files] == ["a.py", "b.py", "a.py"]
    patch = parse_diff(repo.git("format-patch", "-1", "--stdout"))
    assert [f.path for f in patch.files] == ["a.py", "b.py"]


def test_quoted_and_unicode_paths(repo: GitRepo) -> None:
    repo.write('sp ace/q"uote.txt', "1\n")
    repo.write("тест/файл.txt", "1\n")
    repo.commit()
    repo.write('sp ace/q"uote.txt', "2\n")
    repo.write("тест/файл.txt", "2\n")
    files = by_path(repo.git("-c", "core.quotePath=true", "diff"))
    assert set(files) == {'sp ace/q"uote.txt', "тест/файл.txt"}
    assert unquote_c('"\\321\\202\\320\\265"') == "те"


def test_plain_diff_u(tmp_path: Path) -> None:
    old = ["def f():\n", "    return 1\n"]
    new = ["def f():\n", "    return 2\n", "\n"]
    text = "".join(difflib.unified_diff(old, new, "app.py.orig", "app.py"))
    (f,) = parse_diff(text).files
    assert f.path == "app.py" and f.status == "modified" and f.added == 2
    if shutil.which("diff"):
        (tmp_path / "a" / "src").mkdir(parents=True)
        (tmp_path / "b" / "src").mkdir(parents=True)
        (tmp_path / "a" / "src" / "x.py").write_text("a\n")
        (tmp_path / "b" / "src" / "x.py").write_text("b\n")
        out = subprocess.run(["diff", "-ruN", "a", "b"], cwd=tmp_path, capture_output=True,
                             text=True).stdout
        (f,) = parse_diff(out).files
        assert f.path == "src/x.py" and f.added == 1 and f.removed == 1


def test_crlf_input_is_accepted(repo: GitRepo) -> None:
    repo.write("a.txt", "1\n")
    repo.commit()
    repo.write("a.txt", "2\n")
    text = repo.git("diff").replace("\n", "\r\n")
    assert by_path(text)["a.txt"].added == 1


@pytest.mark.parametrize(("text", "line", "shown"), [
    ("hello world\n", 1, '"hello world"'),
    ("\n\nnot a diff \x1b[31mred\x1b[0m\n", 3, "\\x1b[31m"),
    ("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\nstray text\n", 7,
     '"stray text"'),
])
def test_not_a_diff_names_the_first_bad_line(text: str, line: int, shown: str) -> None:
    with pytest.raises(DiffParseError) as info:
        parse_diff(text)
    assert isinstance(info.value, UsageError)
    assert f"line {line}:" in info.value.message
    assert shown in info.value.message
    assert "\x1b" not in info.value.message
    assert info.value.hint


def test_truncated_hunk_is_an_error() -> None:
    text = "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n"
    with pytest.raises(DiffParseError, match="line 3"):
        parse_diff(text)


def test_hunk_longer_than_its_header_is_an_error() -> None:
    text = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n"
    with pytest.raises(DiffParseError, match="line 6"):
        parse_diff(text)


def test_empty_input() -> None:
    with pytest.raises(DiffParseError, match="empty"):
        parse_diff("  \n\n")


@pytest.mark.parametrize("header", ["@@ -1 +" + "9" * 5000 + " @@", "@@ -1,٣ +1 @@"])
def test_absurd_line_numbers_are_a_parse_error(header: str) -> None:
    with pytest.raises(DiffParseError, match="line 3"):
        parse_diff(f"--- a/x\n+++ b/x\n{header}\n+a\n")


def test_absurd_similarity_is_ignored() -> None:
    for value in ("9" * 5000, "²"):
        text = f"diff --git a/x b/y\nsimilarity index {value}%\nrename from x\nrename to y\n"
        assert parse_diff(text).files[0].similarity is None
