"""Path masking and trimming to a budget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from consilium_cli.council.redact import (
    PLACEHOLDER,
    RedactionRules,
    Redactor,
    redact,
    trim_to_budget,
)

HOME = Path("/home/alice")
REPO = Path("/home/alice/src/shop")
ROOTS = RedactionRules(path_roots=frozenset({"srv", "mnt", "data", "opt", "var", "usr", "etc",
                                             "tmp", "Volumes", "home", "Users", "root"}))


def mask(text: str, repo: Path | None = REPO, home: Path | None = HOME) -> str:
    return Redactor(ROOTS, repo_root=repo, home=home).redact(text).text


@pytest.mark.parametrize(("text", "expected"), [
    ('File "/home/alice/.local/lib/python3.11/site.py", line 3',
     'File "~/.local/lib/python3.11/site.py", line 3'),
    ("cd /home/alice && ls", "cd ~ && ls"),
    ("open file:///home/alice/notes.txt", "open file://~/notes.txt"),
    ("/Users/alice/Library/Caches/x", "~/Library/Caches/x"),
    ("/home/bob/.ssh/config", "~/.ssh/config"),
    ("/root/.bashrc", "~/.bashrc"),
    (r"C:\Users\alice\AppData\Local\Temp\x.log", r"~\AppData\Local\Temp\x.log"),
    (r'"C:\\Users\\alice\\source\\shop"', r'"~\\source\\shop"'),
    ("C:/Users/alice/Desktop/report.txt", "~/Desktop/report.txt"),
])
def test_home_directories_become_tilde(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_repository_paths_keep_everything_but_the_home_name() -> None:
    assert mask("edit /home/alice/src/shop/app/models.py:12") == \
        "edit ~/src/shop/app/models.py:12"
    outside_home = Path("/work/shop")
    assert mask("/work/shop/app.py", repo=outside_home) == "/work/shop/app.py"


@pytest.mark.parametrize("text", [
    "/usr/bin/python3 -m venv .venv",
    "see /etc/nginx/nginx.conf and /var/log/syslog",
    "/tmp/pytest-1/x.txt",
    "/var/lib/postgresql/data",
    "/opt/homebrew/bin/git",
    "GET /api/v1/users/42 returned 404",
    '@app.get("/orders/{order_id}")',
    "https://example.com/srv/data/x",
    "ratio 1/2 and and/or, 2024/03/04",
    "a/src/shop.py b/src/shop.py",
    r"C:\Windows\System32\drivers\etc\hosts",
    r"C:\Program Files\Git\bin\git.exe",
])
def test_system_paths_routes_and_relative_paths_are_kept(text: str) -> None:
    assert mask(text) == text


def test_other_absolute_paths_are_replaced() -> None:
    session = Redactor(ROOTS, repo_root=REPO, home=HOME)
    result = session.redact("read /srv/acme-payroll/2025/march.csv, wrote /mnt/nas/contoso/out.json"
                            r" and D:\Clients\Fabrikam\ledger.xlsx; /var/www/acme/index.php"
                            " /data/patients/batch-7.json /Volumes/Backup/alice")
    assert result.text == ("read [REDACTED:path#1], wrote [REDACTED:path#2] and "
                           "[REDACTED:path#3]; [REDACTED:path#4] [REDACTED:path#5] "
                           "[REDACTED:path#6]")
    assert session.restore(result.text).startswith("read /srv/acme-payroll/2025/march.csv,")


def test_this_machines_top_level_directories_count_as_filesystem_roots() -> None:
    common = {"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media",
              "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
              "snap", "nix", "private", "cores", "System", "Library", "Applications", "Users",
              "Volumes"}
    tops = sorted(e.name for e in os.scandir("/") if e.is_dir(follow_symlinks=False)
                  and e.name.isidentifier() and e.name not in common) if os.name != "nt" else []
    if not tops:
        pytest.skip("no unusual top-level directory on this machine")
    text = f"cache at /{tops[0]}/team-x/cache and /{tops[0]}-not-here/x"
    assert redact(text, home=Path("/nonexistent-home")).text == \
        f"cache at [REDACTED:path#1] and /{tops[0]}-not-here/x"


def test_paths_can_be_switched_off() -> None:
    rules = RedactionRules(mask_paths=False)
    text = "/srv/acme/x /home/alice/y"
    assert redact(text, rules=rules, home=HOME).text == text


def test_the_home_given_is_masked_even_outside_known_roots() -> None:
    assert mask("log: /export/users/alice/run.log", home=Path("/export/users/alice")) == \
        "log: ~/run.log"


# -------------------------------------------------------------------------------- trim

def test_trim_keeps_whole_lines_and_says_what_was_cut() -> None:
    text = "".join(f"line {i:03d} [REDACTED:github-token#{i}]\n" for i in range(100))
    trimmed = trim_to_budget(text, 500)
    assert len(trimmed.text) <= 500
    body, note = trimmed.text.rstrip("\n").rsplit("\n", 1)
    assert text.startswith(body + "\n")
    assert note == trimmed.note
    assert trimmed.cut_lines == 100 - body.count("\n") - 1
    assert trimmed.cut_chars == len(text) - len(body) - 1
    assert f"{trimmed.cut_lines} lines" in note
    for line in body.splitlines():
        assert PLACEHOLDER.search(line)  # no placeholder was cut in half


def test_trim_keeping_the_tail() -> None:
    text = "".join(f"step {i}\n" for i in range(200))
    trimmed = trim_to_budget(text, 300, keep="tail")
    assert len(trimmed.text) <= 300
    assert trimmed.text.startswith(trimmed.note + "\n")
    assert text.endswith(trimmed.text[len(trimmed.note) + 1:])


def test_trim_leaves_short_text_alone() -> None:
    trimmed = trim_to_budget("a\nb\n", 10)
    assert (trimmed.text, trimmed.cut_lines, trimmed.cut_chars) == ("a\nb\n", 0, 0)
    assert trimmed.note == ""


def test_trim_a_single_long_line_never_inside_a_placeholder() -> None:
    line = "x" * 120 + "[REDACTED:private-key#1]" + "y" * 200 + "\n"
    trimmed = trim_to_budget(line, 200)  # the cut would fall inside the placeholder
    assert trimmed.cut_mid_line
    assert len(trimmed.text) <= 200
    head = trimmed.text.split("\n", 1)[0]
    assert head == "x" * 120


@pytest.mark.parametrize("keep", ["head", "tail"])
def test_trim_a_single_long_line_between_words(keep: str) -> None:
    # Text trimmed before it is redacted: a token cut in part would no longer be found.
    token = "ghp_" + "aB3" * 12
    line = "word " * 222 + token + " and more" * 25
    if keep == "tail":
        line = "word " * 25 + token + " and more" * 128
    trimmed = trim_to_budget(line, 1200, keep=keep)  # type: ignore[arg-type]
    assert trimmed.cut_mid_line
    assert len(trimmed.text) <= 1200
    assert "ghp_" not in trimmed.text or token in trimmed.text
    words = trimmed.text.split("\n")[0 if keep == "head" else 1].split(" ")
    assert set(words) <= {"word", "and", "more", token}


def test_trim_with_a_budget_too_small_for_the_note() -> None:
    trimmed = trim_to_budget("first line\nsecond line\n", 12)
    assert len(trimmed.text) <= 12
    assert trimmed.cut_chars > 0
