"""Stage 2 of the router: the real llama.cpp engine under the routing grammar."""

from __future__ import annotations

from consilium_cli.council.roles import ROLES
from consilium_cli.council.router import (
    classification_prompt,
    parse_model_roles,
    route,
    routing_schema,
)


def test_an_unclear_task_goes_to_the_model(tiny_engine) -> None:
    routing = route("hello there, have a look", engine=tiny_engine)
    assert routing.stage == "model"
    assert routing.roles
    assert set(routing.roles) <= set(ROLES)
    assert len(routing.roles) == len(set(routing.roles))
    # The rules still apply: a request (not a question) changes code, so dev joins.
    assert "dev" in routing.roles
    for role in routing.roles:
        assert routing.reasons[role]


def test_a_confident_task_never_reaches_the_model(tiny_engine) -> None:
    routing = route("Пароли хранятся в открытом виде, исправь", engine=tiny_engine)
    assert routing.stage == "lexicon"
    assert routing.confident
    assert set(routing.roles) == {"dev", "security"}


def test_overrides_never_reach_the_model(tiny_engine) -> None:
    assert route("hello", agents=["ux"], engine=tiny_engine).stage == "override"


def test_the_schema_bounds_the_answer() -> None:
    schema = routing_schema()["properties"]["roles"]
    assert schema["items"]["enum"] == list(ROLES)
    assert (schema["minItems"], schema["maxItems"]) == (1, 3)


def test_the_prompt_names_every_role_and_caps_the_task() -> None:
    system, user = classification_prompt("x" * 10_000, ["a.py"])
    assert all(f"- {role}:" in system for role in ROLES)
    assert len(user) < 2_200
    assert "a.py" in user


def test_model_answers_are_filtered() -> None:
    assert parse_model_roles('{"roles": ["qa", "qa", "seo"]}') == ("qa", "seo")
    assert parse_model_roles('{"roles": ["marketing"]}') == ()
    # Cut short by the token limit: the whole role names before the cut still count.
    assert parse_model_roles('{ "roles": [ "security", "ux", "arch') == ("security", "ux")
