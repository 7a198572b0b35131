"""A one-key prompt (prompt-toolkit): the answer is the key pressed, Enter gives the default.

Ctrl-C raises KeyboardInterrupt; Ctrl-D answers `eof_key`. Other keys are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence


def ask_key(message: Sequence[tuple[str, str]], keys: str, *, default: str,
            eof_key: str | None = None) -> str:
    """Show `message` (prompt-toolkit style/text pairs) and wait for one of `keys`."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.layout import Layout
    from prompt_toolkit.layout.containers import Window
    from prompt_toolkit.layout.controls import FormattedTextControl
    from prompt_toolkit.output.defaults import create_output

    bindings = KeyBindings()

    def answer(key: str):  # type: ignore[no-untyped-def]
        def handler(event: KeyPressEvent) -> None:
            event.app.exit(result=key)
        return handler

    for key in keys:
        bindings.add(key)(answer(key))
        if key.upper() != key:
            bindings.add(key.upper())(answer(key))
    bindings.add("enter")(answer(default))
    bindings.add("c-d")(answer(eof_key or default))

    @bindings.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        event.app.exit(exception=KeyboardInterrupt())

    @bindings.add("<any>")
    def _ignore(event: KeyPressEvent) -> None:
        return None

    output = create_output()
    # One line needs no cursor-position report; terminals that do not answer one
    # would otherwise delay the prompt and print a warning.
    if hasattr(output, "enable_cpr"):
        output.enable_cpr = False
    text = FormattedText(list(message))
    app: Application[str] = Application(
        layout=Layout(Window(FormattedTextControl(text), height=1, dont_extend_height=True)),
        key_bindings=bindings, full_screen=False, output=output)
    return app.run()
