"""Knowledge files for tests: front matter plus body, written into role folders."""

from __future__ import annotations

from pathlib import Path

FIELDS = {
    "id": "qa/sample",
    "title": "Sample knowledge",
    "role": "qa",
    "version": "1",
    "updated": "2026-01-10",
    "language": "en",
    "tags": "[testing, тестирование]",
    "source": "team experience",
}


def knowledge(body: str = "## Section {#section}\n\nSome text.\n", *, drop: tuple[str, ...] = (),
              **fields: str) -> str:
    """A knowledge file's text: the default fields overridden by `fields`, minus `drop`."""
    values = {**FIELDS, **fields}
    lines = ["---"]
    lines.extend(f"{key}: {value}" for key, value in values.items() if key not in drop)
    lines.append("---")
    return "\n".join(lines) + "\n" + body


def write(root: Path, role: str, name: str, text: str) -> Path:
    path = root / role / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


PASSWORDS_EN = knowledge(
    "# Passwords\n\n"
    "## Storing passwords {#storage}\n\n"
    "Store password hashes made with Argon2id; never store a password in plain text.\n\n"
    "## Rate limits {#rate-limits}\n\n"
    "Limit login attempts per account and per address.\n",
    id="security/passwords", title="Password handling", role="security",
    tags="[passwords, hashing, хеширование]", source="OWASP Password Storage Cheat Sheet")

PASSWORDS_RU = knowledge(
    "# Пароли\n\n"
    "## Хранение паролей {#storage}\n\n"
    "Никогда не храните паролей открытым текстом: храните хеш с солью, созданный "
    "паролем пользователя и медленной функцией.\n",
    id="security/paroli", title="Пароли", role="security", language="ru",
    tags="[secrets, секреты]", source="опыт команды")

FLAKY_QA = knowledge(
    "## Flaky tests {#flaky}\n\n"
    "A test that fails intermittently is a bug; fix or quarantine it the same day.\n\n"
    "## Fixtures {#fixtures}\n\n"
    "Each test creates its own data in a temporary directory.\n",
    id="qa/flaky", title="Flaky tests", role="qa", tags="[tests, flaky, тесты]")


def sample_kb(root: Path) -> Path:
    """Three documents in two roles and two languages under `root`."""
    write(root, "security", "passwords.md", PASSWORDS_EN)
    write(root, "security", "paroli.md", PASSWORDS_RU)
    write(root, "qa", "flaky.md", FLAKY_QA)
    return root
