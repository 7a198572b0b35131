"""Untrusted text never reaches the terminal as control sequences or markup."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from consilium_cli.ui.safe_text import clean, escape_markup, safe

ESC = "\x1b"
CASES = {
    "sgr colour": f"{ESC}[31mred{ESC}[0m",
    "cursor up": f"line{ESC}[2A",
    "cursor position": f"{ESC}[10;20H",
    "erase display": f"{ESC}[2J",
    "osc 8 hyperlink": f"{ESC}]8;;https://evil.example{ESC}\\click{ESC}]8;;{ESC}\\",
    "osc 52 clipboard": f"{ESC}]52;c;cm0gLXJmIH4={ESC}\\",
    "osc 52 bel": f"{ESC}]52;c;cm0gLXJmIH4=\x07",
    "title change": f"{ESC}]0;pwned\x07",
    "dcs": f"{ESC}P1$qm{ESC}\\",
    "apc": f"{ESC}_hidden{ESC}\\",
    "8-bit csi": "\x9b31m",
    "8-bit osc": "\x9d52;c;AAAA\x9c",
    "two-byte esc": f"{ESC}c",
    "unterminated osc": f"{ESC}]52;c;rest of the text",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_escape_sequences_never_survive(name: str) -> None:
    out = clean(f"before {CASES[name]} after")
    assert ESC not in out
    assert not any(0x80 <= ord(c) <= 0x9F for c in out)
    assert "before" in out


def test_sequence_payload_is_removed_not_just_the_escape() -> None:
    assert clean(f"a{ESC}]52;c;SECRET\x07b") == "ab"
    assert clean(f"{ESC}[31mred{ESC}[0m") == "red"


def test_show_mode_makes_sequences_visible() -> None:
    out = clean(f"x{ESC}[31my", show=True)
    assert out == "x\\x1b[31my"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x7f", "\x85"])
def test_control_characters_are_made_visible(char: str) -> None:
    out = clean(f"a{char}b")
    assert char not in out
    assert out == f"a\\x{ord(char):02x}b"


def test_newlines_and_tabs_are_kept_and_crlf_normalised() -> None:
    assert clean("a\n\tb\r\nc") == "a\n\tb\nc"


def test_lone_carriage_return_cannot_overwrite_a_line() -> None:
    assert clean("safe\rEVIL") == "safe\\x0dEVIL"


def test_bidi_overrides_are_visible() -> None:
    assert clean("a\u202eb") == "a\\u202eb"


def test_cyrillic_and_emoji_pass_through() -> None:
    assert clean("Привет 👋 мир") == "Привет 👋 мир"


def test_markup_is_never_interpreted() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system="truecolor")
    console.print(safe("[bold red]x[/] and a stray [/] and [link=http://e]y[/link]"))
    output = console.file.getvalue()
    assert "[bold red]x[/]" in output
    assert "[/]" in output


def test_escape_markup_for_interpolation() -> None:
    console = Console(file=io.StringIO(), width=80)
    console.print(f"name: {escape_markup('[bold]evil[/bold] ' + ESC + '[31m')}")
    assert console.file.getvalue() == "name: [bold]evil[/bold] \n"


def test_safe_text_through_a_panel_has_no_escape() -> None:
    from rich.panel import Panel

    console = Console(file=io.StringIO(), width=60, color_system=None)
    console.print(Panel(safe(CASES["osc 52 clipboard"] + "visible")))
    assert ESC not in console.file.getvalue()
    assert "visible" in console.file.getvalue()


def test_director_label_from_a_remote_failure_is_cleaned() -> None:
    from consilium_cli.council.transcript import DirectorOutcome
    from consilium_cli.ui.council_view import decision_renderable

    label = f"local (remote failed: 400 {CASES['osc 52 clipboard']}[bold]x[/])"
    outcome = DirectorOutcome(label=label, decision=None, raw="", seconds=0.0, error="e")
    from consilium_cli.ui.console import make_console

    stream = io.StringIO()
    make_console(stream, color="always", width=100).print(decision_renderable(outcome))
    out = stream.getvalue()
    assert "]52;" not in out
    assert "[bold]x[/]" in out


def test_json_output_escapes_what_would_steer_a_terminal() -> None:
    import json

    from consilium_cli.ui.console import json_text

    payload = {"text": "Привет \x9b31m red \u202e evil \x7f", "ok": "plain"}
    text = json_text(payload)
    assert "\x9b" not in text and "\u202e" not in text and "\x7f" not in text
    assert "Привет" in text
    assert json.loads(text) == payload
