"""Stage 1 of the router: lexicons, stemming, phrases, paths, code, rules and overrides."""

from __future__ import annotations

from importlib import resources

import pytest

from consilium_cli.council import router
from consilium_cli.council.roles import ROLES
from consilium_cli.council.router import (
    Routing,
    compile_lexicon,
    lexicons,
    roles_for_path,
    roles_for_paths,
    roles_for_text,
    route,
    score_roles,
)
from consilium_cli.errors import ConfigError, UsageError


def test_every_role_has_entries_in_both_languages() -> None:
    by_language = {lexicon.language: lexicon for lexicon in lexicons()}
    assert {"en", "ru"} <= set(by_language)
    for language in ("en", "ru"):
        lexicon = by_language[language]
        for role in ROLES:
            assert lexicon.entries(role) >= 10, (language, role)
        assert lexicon.entries("change") > 0
        assert lexicon.entries("inquiry") > 0


def test_lexicons_are_discovered_from_the_package_data() -> None:
    folder = resources.files("consilium_cli.council").joinpath("lexicons")
    files = {item.name[:-5] for item in folder.iterdir() if item.name.endswith(".toml")}
    assert {lexicon.language for lexicon in lexicons()} == files


def test_a_new_language_is_data_only() -> None:
    german = compile_lexicon("de", {
        "language": "de", "stemmer": "german",
        "roles": {"security": {"strong": ["Passwort"]}, "ux": {"normal": ["Schaltfläche"]}},
    })
    keys = german.keys("passwörter")
    assert any(target == "security" for key in keys for target, _, _ in german.words.get(key, ()))


def test_a_lexicon_with_an_unknown_stemmer_or_role_is_refused() -> None:
    with pytest.raises(ConfigError, match="stemmer"):
        compile_lexicon("xx", {"stemmer": "klingon"})
    with pytest.raises(ConfigError, match="unknown role"):
        compile_lexicon("xx", {"stemmer": "english", "roles": {"marketing": {"strong": ["ad"]}}})


@pytest.mark.parametrize("word", ["пароль", "пароли", "паролей", "паролем", "пароля"])
def test_russian_inflections_route_to_security(word: str) -> None:
    routing = route(f"Проблема с {word} в личном кабинете")
    assert "security" in routing.roles
    assert f"word '{word}'" in routing.reasons["security"]


def test_english_stemming_joins_word_forms() -> None:
    for text in ("store the passwords safely", "password storage", "tests are failing",
                 "testing the parser"):
        assert route(text).roles != (), text
    assert "security" in route("store the passwords safely").roles
    assert "qa" in route("testing the parser").roles


def test_phrases_match_across_hyphens_and_stop_words() -> None:
    reasons = score_roles("Is there an SQL-injection here?").reasons("security")
    assert "phrase 'sql injection'" in reasons
    assert "phrase 'план тестирования'" in score_roles("Составь план тестирования").reasons("qa")
    assert "phrase 'logged out'" in score_roles("Users get logged out").reasons("security")


def test_mixed_language_tasks_use_both_lexicons() -> None:
    routing = route("Пофиксить XSS в комментах, user input надо escape-ить в templates")
    assert {"dev", "security"} <= set(routing.roles)
    routing = route("Настрой JWT-авторизацию и CORS для API")
    assert "security" in routing.roles
    assert any("jwt" in r or "cors" in r for r in routing.reasons["security"])
    routing = route("Please check the translation: кнопки в форме оплаты подписаны по-английски")
    assert "ux" in routing.roles


def test_latin_terms_inside_russian_text() -> None:
    assert "architect" in route("Продумай мультитенантный SaaS с изоляцией данных").roles
    assert "seo" in route("Нужен SSR для лендинга").roles
    assert "qa" in route("Добавь e2e на оплату").roles


def test_dev_joins_tasks_that_change_code_and_not_pure_questions() -> None:
    assert "dev" in route("Добавь кэширование каталога").roles
    assert "dev" in route("The session cookie is missing the HttpOnly flag").roles
    question = route("Should we use Kafka or RabbitMQ for events?")
    assert question.roles == ("architect",)
    assert "dev" not in route("Есть ли тут SQL-инъекция?").roles


def test_not_everyone_always() -> None:
    assert len(route("Fix the off-by-one error in the pagination helper").roles) == 1
    assert len(route("Обнови зависимости в requirements.txt").roles) <= 3


def test_a_task_with_no_signal_is_not_confident() -> None:
    request = route("hello there")
    assert request.stage == "lexicon"
    assert not request.confident
    assert request.roles == ("dev",)
    question = route("what do you think?")
    assert not question.confident
    assert question.roles == router.FALLBACK


def test_reasons_explain_every_chosen_role() -> None:
    routing = route("Fix the flaky test", files=["tests/test_auth.py"])
    assert set(routing.reasons) == set(routing.roles)
    assert all(routing.reasons[role] for role in routing.roles)
    assert "path 'tests/test_auth.py'" in routing.reasons["qa"]
    assert routing.to_json() == {"roles": list(routing.roles),
                                 "reasons": {r: routing.reasons[r] for r in routing.roles},
                                 "stage": "lexicon"}


@pytest.mark.parametrize(("path", "expected"), [
    ("tests/test_auth.py", {"qa", "security", "dev"}),
    ("src/app/auth/session.py", {"security", "dev"}),
    ("web/components/Button.test.tsx", {"qa", "ux", "dev"}),
    ("templates/base.html", {"ux", "dev"}),
    ("static/css/main.css", {"ux", "dev"}),
    ("public/robots.txt", {"seo"}),
    ("public/sitemap.xml", {"seo"}),
    ("pyproject.toml", {"architect"}),
    ("frontend/package.json", {"architect", "ux"}),
    ("requirements-dev.txt", {"architect"}),
    ("go.mod", {"architect"}),
    ("migrations/0042_invoices.py", {"architect", "dev"}),
    ("Dockerfile", {"architect", "dev"}),
    (".env", {"security"}),
    ("db/migrate/20240101_add_index.rb", {"architect", "dev"}),
    ("prisma/schema.prisma", {"architect", "dev"}),
    ("src/db/schema.sql", {"dev"}),  # a database schema, not schema.org
    ("resources/views/welcome.blade.php", {"ux", "dev"}),
    ("theme/layout.liquid", {"ux", "dev"}),
    ("tailwind.config.js", {"ux", "dev"}),
    ("src/seo/structured_data.py", {"seo", "dev"}),
    ("src/app/author.py", {"dev"}),
    (".github/workflows/ci.yml", {"qa"}),
    (".env.production", {"security"}),
    ("src/app/uploads/handler.py", {"security", "dev"}),
    ("docs/adr/0003-event-sourcing.md", {"architect"}),
    ("deploy/nginx.conf", {"architect"}),
    ("static/icons/logo.svg", {"ux"}),
    ("docs/guide.md", set()),
    ("", set()),
])
def test_roles_for_path(path: str, expected: set[str]) -> None:
    found = roles_for_path(path)
    assert set(found) == expected
    for reasons in found.values():
        assert reasons == [f"path '{path}'"]


def test_windows_paths_are_understood() -> None:
    assert set(roles_for_path("tests\\unit\\test_login.py")) >= {"qa", "security"}


def test_changes_spanning_several_folders_call_the_architect() -> None:
    found = roles_for_paths(["src/billing/a.py", "src/users/b.py", "src/mail/c.py",
                             "tests/test_a.py"])
    assert any(r.startswith("changes span 3 folders") for r in found["architect"])
    assert "architect" not in roles_for_paths(["src/billing/a.py", "src/billing/b.py"])


@pytest.mark.parametrize(("text", "role"), [
    ("subprocess.run(cmd, shell=True)", "security"),
    ("data = pickle.loads(request.body)", "security"),
    ("cursor.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)", "security"),
    ("API_KEY = 'sk-live-123'", "security"),
    ("el.innerHTML = comment", "security"),
    ("def test_login(client):\n    assert client.get('/').status_code == 200", "qa"),
    ("<title>Shop</title>\n<meta name=\"description\" content=\"x\">", "seo"),
    ("<button class=\"primary\">Save</button>", "ux"),
    (".card {\n  color: #333;\n  padding: 4px;\n}", "ux"),
])
def test_roles_for_text_reads_code(text: str, role: str) -> None:
    found = roles_for_text(text)
    assert role in found
    assert all(reason for reason in found[role])


def test_roles_for_text_of_blank_text_is_empty() -> None:
    assert roles_for_text("  \n") == {}


def test_paths_written_in_the_task_are_signals() -> None:
    routing = route("Почему падает tests/test_payments.py?")
    assert "qa" in routing.roles
    assert "path 'tests/test_payments.py'" in routing.reasons["qa"]
    assert "seo" in route("Обнови https://example.com/robots.txt").roles


def test_diff_paths_mean_code_changes() -> None:
    routing = route("review this", diff_paths=["src/app/views.py"])
    assert "dev" in routing.roles


@pytest.mark.parametrize("task", ["", "   ", "\n\t "])
def test_an_empty_task_is_a_usage_error(task: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        route(task)


def test_agents_override_the_router() -> None:
    routing = route("Пароли в открытом виде", agents=["qa", "ux", "qa"])
    assert routing == Routing(("qa", "ux"), {"qa": ["--agents"], "ux": ["--agents"]},
                              "override", True)
    assert route("x", agents=["dev,seo"]).roles == ("dev", "seo")


def test_unknown_agents_list_the_valid_roles() -> None:
    with pytest.raises(UsageError) as info:
        route("fix it", agents=["dev", "marketing"])
    assert "marketing" in info.value.message
    assert all(role in info.value.hint for role in ROLES)
    with pytest.raises(UsageError):
        route("fix it", agents=[""])


def test_all_roles() -> None:
    routing = route("fix it", all_roles=True)
    assert routing.roles == ROLES
    assert routing.stage == "override"
    # Configured agents passed along with --all: all six win.
    assert route("fix it", all_roles=True, agents=["dev"]).roles == ROLES


def test_a_one_megabyte_task_is_routed() -> None:
    chunk = "пользователи жалуются, что пароль не принимается; fix the login form. "
    task = (chunk * (1_000_000 // len(chunk) + 1))[:1_000_000]
    routing = route(task)
    assert {"dev", "security"} <= set(routing.roles)
    assert routing.stage == "lexicon"


def test_tokenize_splits_camel_case_but_keeps_brand_names() -> None:
    assert router.tokenize("UnicodeDecodeError") == ["unicodedecodeerror", "unicode", "decode",
                                                     "error"]
    assert router.tokenize("SaaS OAuth") == ["saas", "oauth"]
    assert router.tokenize("Ёлка") == ["елка"]


def test_plurals_of_acronyms_match_the_acronym() -> None:
    # Snowball keeps the "s" of a word without vowels ("jwts"), so the acronym is added.
    assert router.tokenize("JWTs and CVEs") == ["jwts", "and", "cves", "jwt", "cve"]
    assert "security" in route("Is storing JWTs in localStorage a problem?").roles


@pytest.mark.parametrize(("task", "role"), [
    ("Why does the search box clear itself when I press back?", "dev"),
    ("Почему страница товара грузится так долго?", "dev"),
    ("we're logging full request bodies including credit card numbers", "security"),
    ("Harden the container: it runs as root", "security"),
    ("Выключи отладочный режим на проде", "security"),
    ("Где хранить секреты: Vault или переменные окружения?", "architect"),
    ("Как разделить монолит и что при этом может сломаться?", "qa"),
    ("Replace the raw SQL with the ORM and keep behaviour identical", "qa"),
    ("Every product URL exists twice, with and without a trailing slash", "seo"),
    ("Сделай, чтобы длинные названия не ломали сетку карточек", "ux"),
])
def test_phrasings_beyond_the_canonical_terms(task: str, role: str) -> None:
    assert role in route(task).roles, route(task).reasons


@pytest.mark.parametrize(("task", "role"), [
    ("Fix the memory leak in the websocket handler", "security"),  # "leak" is not "leaked"
    ("Правим модуль скидок каждую неделю", "security"),  # "правим" is not "права"
    ("Which pages should be noindex and how do we test it safely?", "security"),
])
def test_words_that_only_look_like_a_role_do_not_call_it(task: str, role: str) -> None:
    assert role not in route(task).roles, route(task).reasons


@pytest.mark.parametrize("task", [
    "a" * 1_000_000,  # one giant "word"
    " ".join(f"pass{i:06d}x" for i in range(90_000)),  # all-distinct words
    "expect(x " * 110_000,  # unclosed calls for the code patterns
    "a/" * 500_000,  # one giant "path"
    "getUserName " * 80_000,  # camelCase everywhere
])
def test_pathological_long_tasks_are_routed(task: str) -> None:
    routing = route(task)
    assert routing.roles
    assert routing.stage == "lexicon"


def test_a_long_task_keeps_its_signals() -> None:
    filler = "lorem ipsum dolor sit amet " * 30_000
    routing = route(filler + " the sitemap.xml is stale")
    assert "seo" in routing.roles


def test_skipping_the_stemmer_loses_no_match_on_the_labelled_words() -> None:
    import dataclasses
    import json
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent / "data"
    tokens = {token for path in data.glob("routing_*.jsonl")
              for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
              for token in router.tokenize(json.loads(line)["task"])}
    # English Snowball restores a final "e" or turns "y" into "i": such stems must not make
    # the fast path skip their inflected forms.
    tokens |= {"proving", "making", "caching", "libraries", "storing", "retries"}
    for fast in lexicons():
        assert fast.cuts_endings
        slow = dataclasses.replace(fast, cuts_endings=False, _keys={})
        for token in tokens:
            matched = {key for key in fast.keys(token) if key in fast.words}
            assert matched == {key for key in slow.keys(token) if key in slow.words}, token


@pytest.mark.parametrize(("task", "role", "word"), [
    ("Проведи аудит безопастности нашего API", "security", "безопастности"),
    ("fix the authetication flow", "security", "authetication"),
    ("reset pasword link is broken", "security", "pasword"),
    ("add regresion tests for the parser", "qa", "regresion"),
    ("архетектуру сервиса надо пересмотреть", "architect", "архетектуру"),
    ("the sitemapp is stale", "seo", "sitemapp"),
])
def test_one_typo_in_a_long_word_still_routes(task: str, role: str, word: str) -> None:
    routing = route(task)
    assert role in routing.roles, routing.reasons
    assert any(reason.startswith(f"word '{word}' (read as ") for reason in routing.reasons[role])


@pytest.mark.parametrize(("task", "role"), [
    ("Новые товары попадают в конец списка", "dev"),  # not "пропадают"
    ("авторитет команды поддержки вырос", "security"),  # not "авториз*"
    ("The importer keeps treating empty cells as zero", "security"),  # not "threat"
    ("сделай пагинацию в списке заказов", "architect"),  # not "плагин*"
])
def test_real_words_near_an_entry_are_not_typos(task: str, role: str) -> None:
    scores = score_roles(task)
    assert not any("read as" in reason for reason in scores.reasons(role)), scores.points


def test_a_typo_counts_a_tier_lower_and_once_per_role() -> None:
    scores = score_roles("пороль")  # one letter off "пароль" too early in the word
    assert scores.score("security") == 0
    scores = score_roles("прверка securty")
    assert scores.reasons("security") == ["word 'securty' (read as 'security')"]
    assert scores.score("security") == router.WEIGHTS["strong"] - 1


@pytest.mark.parametrize(("a", "b", "near"), [
    ("безопасн", "безопастн", True),  # a letter added
    ("password", "pasword", True),  # a letter dropped
    ("canonical", "canonicel", True),  # a letter changed
    ("redirect", "redierct", True),  # neighbours swapped
    ("redirect", "redirect", False),  # the same word is no typo
    ("пропада", "попада", False),  # the first two letters are kept
    ("авториз", "авторит", False),  # and the last one
    ("contract", "cantrakt", False),  # two typos
])
def test_one_typo_apart(a: str, b: str, near: bool) -> None:
    assert router.one_typo_apart(a, b) is near
    assert router.one_typo_apart(b, a) is near


def test_typos_are_checked_for_a_bounded_number_of_words() -> None:
    lexicon = next(lexicon for lexicon in lexicons() if lexicon.language == "en")
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [f"zq{letters[i // 26]}{letters[i % 26]}unknown" for i in range(router.TYPO_MAX_WORDS)]
    assert len(lexicon.typos(["pasword", *words])) == 1
    assert lexicon.typos([*words, "pasword"]) == {}


def test_idioms_are_no_evidence() -> None:
    assert "architect" not in route("Что проверить в первую очередь в форме входа?").roles
    assert "architect" in route("Нужна очередь задач для рассылки").roles
    assert router.drop_idioms(["а", "в", "свою", "очередь", "тесты"]) == ["а", "тесты"]
