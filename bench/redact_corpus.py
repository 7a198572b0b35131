"""A deterministic corpus for the redaction benchmark and tests.

Realistic project files (.env, YAML, JSON, shell, Python, TOML, INI, XML, unified diffs,
logs, lock files, HTML, CSS) with planted secrets of every kind the redactor names, and
look-alike non-secrets (hashes in lock files, commit ids, UUIDs, base64 images, public
keys and certificates, example placeholders, versions, colours, URL routes, system paths).
The same seed always gives the same corpus.

    python bench/redact_corpus.py --seed 1 [--out DIR]   (default: a new temporary folder)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import string
import sys
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HOME = "/home/alice"
REPO = "/home/alice/src/shop"
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + "234567"
PASSWORD_SYMBOLS = "!@#%^&*-_+=.~"


@dataclass(frozen=True)
class Planted:
    """A secret in a file: its kind, its value and the strings that must not survive."""

    file: str
    kind: str
    value: str
    probes: tuple[str, ...]


@dataclass(frozen=True)
class Decoy:
    """A look-alike that is not a secret: `value` must survive redaction verbatim."""

    file: str
    category: str
    value: str


@dataclass
class Corpus:
    files: dict[str, str] = field(default_factory=dict)
    secrets: list[Planted] = field(default_factory=list)
    decoys: list[Decoy] = field(default_factory=list)
    home: str = HOME
    repo_root: str = REPO

    @property
    def size(self) -> int:
        return sum(len(text) for text in self.files.values())


def probes_for(value: str, window: int = 8, stride: int = 4) -> tuple[str, ...]:
    """Windows of the value: if any survives, part of the secret leaked."""
    value = value.strip()
    if len(value) <= window:
        return (value,)
    starts = list(range(0, len(value) - window + 1, stride))
    if starts[-1] != len(value) - window:
        starts.append(len(value) - window)
    return tuple(value[i:i + window] for i in starts)


def leaked(secret: Planted, redacted: str) -> bool:
    return any(probe in redacted for probe in secret.probes)


def survived(decoy: Decoy, redacted: str) -> bool:
    return decoy.value in redacted


class _Gen:
    """Random values of realistic shapes, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def s(self, chars: str, n: int) -> str:
        return "".join(self.rng.choice(chars) for _ in range(n))

    def pick(self, items: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(items)

    # -- secrets -------------------------------------------------------------------
    def aws_key_id(self) -> str:
        return self.pick(("AKIA", "AKIA", "ASIA")) + self.s(UPPER_DIGITS, 16)

    def aws_secret(self) -> str:
        return self.s(B64, 40)

    def github_classic(self) -> str:
        return self.pick(("ghp", "gho", "ghu", "ghs", "ghr")) + "_" + self.s(ALNUM, 36)

    def github_fine(self) -> str:
        return "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)

    def gitlab(self) -> str:
        return "glpat-" + self.s(ALNUM + "_-", 20)

    def slack_token(self) -> str:
        kind = self.pick(("xoxb", "xoxp", "xoxa", "xoxr", "xapp"))
        if kind == "xoxb":
            return f"xoxb-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-" \
                   f"{self.s(ALNUM, 24)}"
        if kind == "xapp":
            return f"xapp-1-A{self.s(UPPER_DIGITS, 10)}-{self.s(string.digits, 13)}-" \
                   f"{self.s(HEX, 64)}"
        return f"{kind}-{self.s(string.digits, 12)}-{self.s(string.digits, 12)}-" \
               f"{self.s(string.digits, 13)}-{self.s(HEX, 32)}"

    def slack_webhook_path(self) -> str:
        return f"T{self.s(UPPER_DIGITS, 10)}/B{self.s(UPPER_DIGITS, 10)}/{self.s(ALNUM, 24)}"

    def openai(self) -> str:
        style = self.pick(("legacy", "proj", "svcacct"))
        if style == "legacy":
            return "sk-" + self.s(ALNUM, 20) + "T3BlbkFJ" + self.s(ALNUM, 20)
        return f"sk-{style}-" + self.s(B64URL, 74) + "T3BlbkFJ" + self.s(B64URL, 74)

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.s(B64URL, 93) + "AA"

    def stripe(self) -> str:
        prefix = self.pick(("sk_live_", "sk_test_", "rk_live_", "rk_test_"))
        return prefix + "51" + self.s(ALNUM, self.pick((22, 97)))

    def whsec(self) -> str:
        return "whsec_" + self.s(ALNUM, 32)

    def stripe_publishable(self) -> str:
        return self.pick(("pk_live_", "pk_test_")) + "51" + self.s(ALNUM, 97)

    def google(self) -> str:
        return "AIza" + self.s(B64URL, 35)

    def jwt(self) -> str:
        header = {"alg": self.pick(("HS256", "RS256", "ES256")), "typ": "JWT"}
        payload = {"sub": str(self.rng.randint(10**5, 10**9)),
                   "name": self.pick(("Jane Doe", "Ivan Petrov", "Ana Souza")),
                   "iat": self.rng.randint(1_600_000_000, 1_800_000_000),
                   "scope": self.pick(("read", "read write", "admin"))}

        def enc(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        sig = bytes(self.rng.getrandbits(8) for _ in range(self.pick((32, 64))))
        return ".".join((enc(json.dumps(header).encode()), enc(json.dumps(payload).encode()),
                         enc(sig)))

    def pem(self) -> str:
        label = self.pick(("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY",
                           "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY"))
        width = 70 if label.startswith("OPENSSH") else 64
        raw = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(120, 900)))
        body = base64.b64encode(raw).decode()
        lines = [body[i:i + width] for i in range(0, len(body), width)]
        headers = []
        if label == "RSA PRIVATE KEY" and self.rng.random() < 0.3:
            headers = ["Proc-Type: 4,ENCRYPTED",
                       f"DEK-Info: AES-128-CBC,{self.s('0123456789ABCDEF', 32)}", ""]
        return "\n".join([f"-----BEGIN {label}-----", *headers, *lines,
                          f"-----END {label}-----"])

    def password(self) -> str:
        style = self.rng.randint(0, 5)
        if style == 0:
            return self.s(ALNUM + PASSWORD_SYMBOLS, self.rng.randint(12, 24))
        if style == 1:
            word = self.pick(("Summer", "Winter", "Dragon", "Monkey", "Falcon", "Cobalt"))
            return f"{word}{self.rng.randint(1990, 2030)}{self.pick(PASSWORD_SYMBOLS)}" \
                   f"{self.s(ALNUM, 3)}"
        if style == 2:
            return self.s(HEX, 32)
        if style == 3:
            return base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(24))).decode()
        if style == 4:
            chars = string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)"
            return "django-insecure-" + self.s(chars, 50)
        return self.s(string.ascii_lowercase, 5) + self.s(string.digits, 4) + \
            self.s(string.ascii_uppercase, 3)

    def url_password(self) -> str:
        return self.s(ALNUM + "!*-_.~", self.rng.randint(10, 24))

    def hf(self) -> str:
        return "hf_" + self.s(string.ascii_letters, 34)

    def npm(self) -> str:
        return "npm_" + self.s(ALNUM, 36)

    def pypi(self) -> str:
        return "pypi-AgEIcHlwaS5vcmc" + self.s(B64URL, 150)

    def sendgrid(self) -> str:
        return "SG." + self.s(B64URL, 22) + "." + self.s(B64URL, 43)

    def sas_signature(self) -> str:
        """An Azure SAS `sig`: base64 of an HMAC-SHA256, URL-encoded."""
        raw = base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(32))).decode()
        return raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")

    def jwk_part(self, size: int) -> str:
        """A JWK member: `size` bytes, base64url without padding."""
        data = bytes(self.rng.getrandbits(8) for _ in range(size))
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def oracle_password(self) -> str:
        """Oracle's unquoted IDENTIFIED BY value: an identifier."""
        return self.pick(("Tiger", "Scott", "Falcon")) + self.s(ALNUM, 9)

    # -- look-alikes ---------------------------------------------------------------
    def sha1(self) -> str:
        return self.s(HEX, 40)

    def sha256(self) -> str:
        return self.s(HEX, 64)

    def sha512_b64(self) -> str:
        return base64.b64encode(bytes(self.rng.getrandbits(8) for _ in range(64))).decode()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def image(self, size: int) -> str:
        data = b"\x89PNG\r\n\x1a\n" + bytes(self.rng.getrandbits(8) for _ in range(size))
        return base64.b64encode(data).decode()

    def version(self) -> str:
        return f"{self.rng.randint(0, 30)}.{self.rng.randint(0, 40)}.{self.rng.randint(0, 30)}"

    def colour(self) -> str:
        return "#" + self.s("0123456789abcdef", self.pick((3, 6)))

    def public_ssh(self) -> str:
        raw = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + \
            bytes(self.rng.getrandbits(8) for _ in range(32))
        return "ssh-ed25519 " + base64.b64encode(raw).decode()

    def certificate(self, label: str = "CERTIFICATE") -> str:
        raw = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(300, 700)))
        body = base64.b64encode(raw).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


class _Builder:
    """Builds one project's files, recording every planted secret and look-alike."""

    def __init__(self, corpus: Corpus, gen: _Gen, project: str) -> None:
        self.corpus, self.g, self.project = corpus, gen, project
        self.file = ""

    def secret(self, kind: str, value: str, probe_source: str | None = None) -> str:
        source = value if probe_source is None else probe_source
        probes = probes_for(source)
        if kind == "private-key":
            # Lines of a few characters (the last one of a block) occur anywhere by chance.
            lines = source.splitlines()
            probes = (*(p for line in lines[1:-1] if len(line.strip()) >= 8
                        for p in probes_for(line)), lines[0])
        self.corpus.secrets.append(Planted(self.file, kind, value, probes))
        return value

    def decoy(self, category: str, value: str) -> str:
        self.corpus.decoys.append(Decoy(self.file, category, value))
        return value

    def add(self, name: str, build: object) -> None:
        self.file = f"{self.project}/{name}"
        text = build()  # type: ignore[operator]
        self.corpus.files[self.file] = text

    # -- files ---------------------------------------------------------------------
    def env(self) -> str:
        g = self.g
        pw, db_pw = g.password(), g.url_password()
        return "\n".join([
            "# application settings",
            "DEBUG=false",
            f"PORT={g.rng.randint(3000, 9000)}",
            f"APP_VERSION={self.decoy('version', g.version())}",
            f"DB_PASSWORD={self.secret('secret-assignment', pw)}",
            f"DATABASE_URL=postgres://app:{self.secret('url-password', db_pw)}"
            f"@db.internal:5432/app",
            f"REDIS_URL=redis://:{self.secret('url-password', g.url_password())}@cache:6379/0",
            f"AWS_ACCESS_KEY_ID={self.secret('aws-access-key-id', g.aws_key_id())}",
            f"AWS_SECRET_ACCESS_KEY={self.secret('aws-secret-key', g.aws_secret())}",
            f"OPENAI_API_KEY={self.secret('openai-key', g.openai())}",
            f"STRIPE_SECRET_KEY={self.secret('stripe-key', g.stripe())}",
            f"STRIPE_PUBLISHABLE_KEY={self.decoy('public-key', g.stripe_publishable())}",
            f"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/"
            f"{self.secret('slack-webhook', g.slack_webhook_path())}",
            f'export SESSION_SECRET="{self.secret("secret-assignment", g.password())}"',
            f"HF_TOKEN={self.secret('huggingface-token', g.hf())}",
            "AZURE_BACKUP_URL=https://acmeshop.blob.core.windows.net/backups/db.sql.gz?"
            + self.decoy("url-query", "sv=2022-11-02&ss=b&srt=o&sp=rwdlac")
            + "&se=2026-01-01T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https"
            f"&sig={self.secret('azure-sas', g.sas_signature())}",
            "AZURE_STORAGE_CONNECTION_STRING=BlobEndpoint=https://acmeshop.blob.core.windows.net/;"
            "SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-01-01T00:00:00Z"
            f"&sig={self.secret('azure-sas', g.sas_signature())}",
            f"REQUEST_ID={self.decoy('uuid', g.uuid())}",
            "# " + self.decoy("placeholder", "ANTHROPIC_API_KEY=your-api-key-here"),
            self.decoy("placeholder", "SENTRY_AUTH_TOKEN=${SENTRY_AUTH_TOKEN}"),
            "",
        ])

    def config_yaml(self) -> str:
        g = self.g
        return "\n".join([
            "server:",
            "  host: 0.0.0.0",
            f"  port: {g.rng.randint(3000, 9000)}",
            "database:",
            "  host: db.internal",
            "  username: app",
            f"  password: {self.secret('secret-assignment', g.password())}",
            f"  url: mysql://shop:{self.secret('url-password', g.url_password())}@mysql:3306/shop",
            "auth:",
            f"  jwt_secret: \"{self.secret('secret-assignment', g.password())}\"",
            f"  {self.decoy('near-name', 'token_url: https://oauth2.googleapis.com/token')}",
            f"  {self.decoy('near-name', 'password_min_length: 12')}",
            f"  client_id: {self.decoy('uuid', g.uuid())}",
            f"  client_secret: {self.secret('secret-assignment', g.password())}",
            "llm:",
            f"  {self.decoy('near-name', 'max_tokens: 1024')}",
            f"  api_key: {self.secret('anthropic-key', g.anthropic())}",
            "integrations:",
            f"  github_token: {self.secret('github-token', g.github_classic())}",
            f"  gitlab_token: '{self.secret('gitlab-token', g.gitlab())}'",
            f"  slack_bot_token: {self.secret('slack-token', g.slack_token())}",
            f"  maps_api_key: {self.secret('google-api-key', g.google())}",
            "  signing:",
            "    key: |",
            "      " + self.secret("secret-assignment", g.password()),
            f"  {self.decoy('near-name', 'secret_name: db-credentials')}",
            f"  {self.decoy('near-name', 'sort_key: created_at')}",
            f"build_commit: {self.decoy('git-hash', g.sha1())}",
            f"image: nginx@sha256:{self.decoy('docker-digest', g.sha256())}",
            f"theme_colour: \"{self.decoy('colour', g.colour())}\"",
            "",
        ])

    def compose(self) -> str:
        g = self.g
        return "\n".join([
            "services:",
            "  db:",
            f"    image: postgres:{self.decoy('version', g.version())}",
            "    environment:",
            f"      POSTGRES_PASSWORD: {self.secret('secret-assignment', g.password())}",
            "  app:",
            "    build: .",
            "    environment:",
            f"      - MYSQL_ROOT_PASSWORD={self.secret('secret-assignment', g.password())}",
            f"      - \"API_TOKEN={self.secret('secret-assignment', g.password())}\"",
            f"      - {self.decoy('placeholder', 'GITHUB_TOKEN=${GITHUB_TOKEN}')}",
            "    secrets:",
            "      - db_password",
            "  mysql:",
            f"    image: mysql:{self.decoy('version', g.version())}",
            "    healthcheck:",
            '      test: ["CMD", "mysqladmin", "ping", "-h", "localhost", "-uroot", '
            f'"-p{self.secret("cli-password", g.url_password())}"]',
            "  replica:",
            "    healthcheck:",
            "      test: " + self.decoy(
                "placeholder", '["CMD-SHELL", "mysqladmin ping -uroot -p$$MYSQL_ROOT_PASSWORD"]'),
            "  cache:",
            "    image: redis:7",
            "    healthcheck:",
            '      test: ["CMD", "redis-cli", "-a", '
            f'"{self.secret("cli-password", g.url_password())}", "ping"]',
            "  mysql-replica:",
            "    healthcheck:",
            "      test:",
            "        - CMD",
            "        - mysqladmin",
            "        - ping",
            "        - -uroot",
            f"        - -p{self.secret('cli-password', g.url_password())}",
            "  mysql-prompt:",
            "    command:",
            self.decoy("cli-prompt", "      - mysql\n      - -uroot\n      - -p\n      - shop"),
            "  worker:",
            f"    image: ghcr.io/acme/worker@sha256:{self.decoy('docker-digest', g.sha256())}",
            "",
        ])

    def k8s_secret(self) -> str:
        g = self.g
        b64pw = base64.b64encode(g.password().encode()).decode()
        return "\n".join([
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: app-secrets",
            f"  uid: {self.decoy('uuid', g.uuid())}",
            "type: Opaque",
            "data:",
            f"  password: {self.secret('secret-assignment', b64pw)}",
            "stringData:",
            f"  api-token: \"{self.secret('secret-assignment', g.password())}\"",
            "---",
            "apiVersion: apps/v1",
            "kind: Deployment",
            "spec:",
            "  selector:",
            "    matchExpressions:",
            "      - key: app",
            "        operator: In",
            "  template:",
            "    spec:",
            "      containers:",
            "        - env:",
            "            - name: DB_PASSWORD",
            "              valueFrom:",
            "                secretKeyRef:",
            "                  name: app-secrets",
            f"                  {self.decoy('near-name', 'key: password')}",
            "",
        ])

    def appsettings(self) -> str:
        g = self.g
        data = {
            "ConnectionStrings": {
                "Default": "Server=sql.internal;Database=shop;User Id=sa;Password="
                           + self.secret("secret-assignment", g.password().replace(";", "")) + ";"
            },
            "Auth": {"apiKey": self.secret("secret-assignment", g.s(ALNUM, 32)),
                     "token": self.secret("jwt", g.jwt()),
                     "publicKey": self.decoy("public-key", g.public_ssh())},
            "SendGrid": {"ApiKey": self.secret("sendgrid-key", g.sendgrid())},
            "version": self.decoy("version", g.version()),
            "buildId": self.decoy("uuid", g.uuid()),
            "checksum": "sha256:" + self.decoy("hash", g.sha256()),
            "brand": {"primary": self.decoy("colour", g.colour())},
            "search": {"d": 3, "p": 2, "q": self.decoy("json-lookalike", "running-shoes-2025")},
        }
        return json.dumps(data, indent=2) + "\n"

    def service_account(self) -> str:
        g = self.g
        key = g.pem().replace("OPENSSH PRIVATE KEY", "PRIVATE KEY")
        data = {
            "type": "service_account",
            "project_id": "acme-shop",
            "private_key": key + "\n",
            "client_email": "deploy@acme-shop.iam.gserviceaccount.com",
            "client_id": str(g.rng.randint(10**20, 10**21)),
            "token_uri": "https://oauth2.googleapis.com/token",
        }
        text = json.dumps(data, indent=2) + "\n"
        self.secret("private-key", key)
        return text

    def deploy_sh(self) -> str:
        g = self.g
        repo_token = g.github_classic().replace("ghp_", "ghs_", 1)
        return "\n".join([
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            f"export AWS_ACCESS_KEY_ID={self.secret('aws-access-key-id', g.aws_key_id())}",
            f"export AWS_SECRET_ACCESS_KEY='{self.secret('aws-secret-key', g.aws_secret())}'",
            f"aws configure set aws_secret_access_key "
            f"{self.secret('aws-secret-key', g.aws_secret())}",
            f"git clone https://x-access-token:{self.secret('github-token', repo_token)}"
            f"@github.com/acme/shop.git",
            f"curl -sf -u deploy:{self.secret('basic-auth', g.url_password())} "
            "https://ci.acme.dev/api/v1/deploy",
            f'curl -H "Authorization: Bearer {self.secret("authorization", g.s(ALNUM, 40))}" '
            "https://api.acme.dev/v1/releases",
            self.decoy("placeholder", 'curl -H "Authorization: Bearer $DEPLOY_TOKEN" https://x'),
            f"docker login ghcr.io --username acme --password "
            f"{self.secret('github-token', g.github_classic())}",
            f"npm config set //registry.npmjs.org/:_authToken {self.secret('npm-token', g.npm())}",
            f"twine upload --password {self.secret('pypi-token', g.pypi())} dist/*",
            f"/usr/bin/env python3 {self.decoy('system-path', '/usr/local/bin/migrate')}",
            f"cp dist/app.tgz {self.secret('path', '/srv/acme-payroll/releases/2025-03.tgz')}",
            f"git checkout {self.decoy('git-hash', g.sha1())}",
            "",
        ])

    def settings_py(self) -> str:
        g = self.g
        return "\n".join([
            "import os",
            "from openai import OpenAI",
            "",
            f'__version__ = "{self.decoy("version", g.version())}"',
            f"SECRET_KEY = '{self.secret('secret-assignment', g.password())}'",
            "DATABASES = {",
            "    'default': {",
            "        'ENGINE': 'django.db.backends.postgresql',",
            "        'USER': 'shop',",
            f"        'PASSWORD': '{self.secret('secret-assignment', g.password())}',",
            "    }",
            "}",
            f'EMAIL_HOST_PASSWORD = "{self.secret("secret-assignment", g.password())}"',
            f'STRIPE_SECRET_KEY = "{self.secret("stripe-key", g.stripe())}"',
            f'STRIPE_WEBHOOK_SECRET = "{self.secret("stripe-webhook-secret", g.whsec())}"',
            self.decoy("near-name", 'AWS_SECRET_ACCESS_KEY = os.environ["AWS_SECRET_ACCESS_KEY"]'),
            self.decoy("near-name", "api_key = settings.OPENAI_API_KEY"),
            f'client = OpenAI(api_key="{self.secret("openai-key", g.openai())}")',
            f'HF_HUB_TOKEN: str = "{self.secret("huggingface-token", g.hf())}"',
            f'DEFAULT_ID = "{self.decoy("uuid", g.uuid())}"',
            "",
            "def connect(token=None):",
            "    headers = {" + self.decoy("near-name", '"Authorization": f"Bearer {token}"') + "}",
            "    return headers",
            "",
        ])

    def config_toml(self) -> str:
        g = self.g
        return "\n".join([
            "[tool.poetry]",
            'name = "shop"',
            f'version = "{self.decoy("version", g.version())}"',
            "",
            "[http-basic.private]",
            'username = "ci"',
            f'password = "{self.secret("secret-assignment", g.password())}"',
            "",
            "[secrets]",
            f'anthropic_api_key = "{self.secret("anthropic-key", g.anthropic())}"',
            f'access_token = "{self.secret("secret-assignment", g.s(ALNUM, 40))}"',
            f'webhook_secret = "{self.secret("secret-assignment", g.password())}"',
            "",
            "[dependencies]",
            self.decoy("near-name", 'jsonwebtoken = "9.2"'),
            "",
        ])

    def npmrc(self) -> str:
        g = self.g
        return "\n".join([
            f"//registry.npmjs.org/:_authToken={self.secret('npm-token', g.npm())}",
            f"//npm.pkg.github.com/:_authToken={self.secret('github-token', g.github_classic())}",
            "@acme:registry=https://npm.pkg.github.com",
            "",
        ])

    def pypirc(self) -> str:
        g = self.g
        return "\n".join([
            "[distutils]",
            "index-servers = pypi",
            "",
            "[pypi]",
            "username = __token__",
            f"password = {self.secret('pypi-token', g.pypi())}",
            "",
        ])

    def netrc(self) -> str:
        g = self.g
        return "\n".join([
            f"machine api.heroku.com login alice@acme.dev password "
            f"{self.secret('secret-assignment', g.uuid())}",
            "machine git.acme.dev",
            "  login alice",
            f"  password {self.secret('secret-assignment', g.password())}",
            "",
        ])

    def diff(self) -> str:
        g = self.g
        key = g.pem()
        added_key = "\n".join("+" + line for line in key.splitlines())
        self.secret("private-key", key)
        old, new = g.s(HEX, 12), g.s(HEX, 12)
        return "\n".join([
            "diff --git a/.env.production b/.env.production",
            f"index {self.decoy('git-hash', old)}..{self.decoy('git-hash', new)} 100644",
            "--- a/.env.production",
            "+++ b/.env.production",
            "@@ -1,4 +1,6 @@",
            " NODE_ENV=production",
            f"-API_TOKEN={self.secret('secret-assignment', g.password())}",
            f"+API_TOKEN={self.secret('secret-assignment', g.password())}",
            f"+GITLAB_TOKEN={self.secret('gitlab-token', g.gitlab())}",
            f"+SENDGRID_API_KEY={self.secret('sendgrid-key', g.sendgrid())}",
            " LOG_LEVEL=info",
            "diff --git a/app/client.py b/app/client.py",
            f"index {g.s(HEX, 12)}..{g.s(HEX, 12)} 100644",
            "--- a/app/client.py",
            "+++ b/app/client.py",
            "@@ -10,6 +10,8 @@ class Client:",
            "     def __init__(self):",
            f'+        self.api_key = "{self.secret("google-api-key", g.google())}"',
            f'+        self.slack = "{self.secret("slack-token", g.slack_token())}"',
            f"+        self.ft = '{self.secret('github-fine-grained-token', g.github_fine())}'",
            "         self.timeout = 30",
            "diff --git a/deploy/id_deploy b/deploy/id_deploy",
            "new file mode 100600",
            "--- /dev/null",
            "+++ b/deploy/id_deploy",
            "@@ -0,0 +1,30 @@",
            added_key,
            "",
        ])

    def package_lock(self) -> str:
        g = self.g
        names = ["react", "jsonwebtoken", "@octokit/auth-token", "keyv", "passport", "lodash",
                 "js-tokens", "express", "secret-handshake", "bcrypt", "dotenv", "zod"]
        packages = {"": {"name": "shop", "version": self.decoy("version", g.version())}}
        for name in names:
            version = g.version()
            packages[f"node_modules/{name}"] = {
                "version": version,
                "resolved": f"https://registry.npmjs.org/{name}/-/"
                            f"{name.split('/')[-1]}-{version}.tgz",
                "integrity": "sha512-" + self.decoy("lockfile-hash", g.sha512_b64()),
            }
        data = {"name": "shop", "lockfileVersion": 3, "requires": True, "packages": packages}
        return json.dumps(data, indent=2) + "\n"

    def yarn_lock(self) -> str:
        g = self.g
        out = ["# yarn lockfile v1", ""]
        for name in ("@octokit/auth-token", "keygrip", "oauth-sign", "tokenizer", "chalk"):
            version = g.version()
            sha = self.decoy("lockfile-hash", g.sha1())
            out += [f'"{name}@^{version}":', f'  version "{version}"',
                    f'  resolved "https://registry.yarnpkg.com/{name}/-/'
                    f'{name.split("/")[-1]}-{version}.tgz#{sha}"',
                    f"  integrity sha512-{self.decoy('lockfile-hash', g.sha512_b64())}", ""]
        return "\n".join(out)

    def poetry_lock(self) -> str:
        g = self.g
        out = []
        for name in ("keyring", "pyjwt", "django-oauth-toolkit", "cryptography", "requests"):
            version = g.version()
            out += ["[[package]]", f'name = "{name}"', f'version = "{version}"',
                    'description = "A package"', "optional = false", 'python-versions = ">=3.8"',
                    "files = ["]
            for suffix in ("py3-none-any.whl", "tar.gz"):
                out.append(f'    {{file = "{name.replace("-", "_")}-{version}-{suffix}", '
                           f'hash = "sha256:{self.decoy("lockfile-hash", g.sha256())}"}},')
            out += ["]", ""]
        out += ["[metadata]", 'lock-version = "2.0"',
                f'content-hash = "{self.decoy("lockfile-hash", g.sha256())}"', ""]
        return "\n".join(out)

    def go_sum(self) -> str:
        g = self.g
        out = []
        for mod in ("golang.org/x/oauth2", "github.com/golang-jwt/jwt/v5",
                    "github.com/zalando/go-keyring"):
            version = "v" + g.version()
            h = base64.b64encode(hashlib.sha256(g.s(ALNUM, 20).encode()).digest()).decode()
            out.append(f"{mod} {version} h1:{self.decoy('lockfile-hash', h)}")
        return "\n".join(out) + "\n"

    def git_log(self) -> str:
        g = self.g
        out = []
        for _ in range(4):
            out += [f"commit {self.decoy('git-hash', g.sha1())}",
                    "Author: Alice Example <alice@acme.dev>",
                    "Date:   Tue Mar 4 10:12:00 2025 +0100", "",
                    "    Rotate the API token and fix the session key handling", ""]
        return "\n".join(out)

    def workflow(self) -> str:
        g = self.g
        return "\n".join([
            "name: ci",
            "on: [push]",
            "jobs:",
            "  test:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            f"      - uses: actions/checkout@{self.decoy('git-hash', g.sha1())}",
            "      - run: make test",
            "        env:",
            "          " + self.decoy("placeholder", "NPM_TOKEN: ${{ secrets.NPM_TOKEN }}"),
            "          " + self.decoy("placeholder", "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"),
            f"          OPENAI_API_KEY: {self.secret('openai-key', g.openai())}",
            "",
        ])

    def terraform(self) -> str:
        g = self.g
        return "\n".join([
            'provider "aws" {',
            '  region     = "eu-west-1"',
            f'  access_key = "{self.secret("aws-access-key-id", g.aws_key_id())}"',
            f'  secret_key = "{self.secret("aws-secret-key", g.aws_secret())}"',
            "}",
            'resource "aws_instance" "web" {',
            f'  ami           = "ami-{self.decoy("hash", g.s(HEX, 17))}"',
            '  instance_type = "t3.micro"',
            "}",
            "",
        ])

    def maven_xml(self) -> str:
        g = self.g
        return "\n".join([
            "<settings>",
            "  <servers>",
            "    <server>",
            "      <id>acme-releases</id>",
            "      <username>deploy</username>",
            f"      <password>{self.secret('secret-assignment', g.password())}</password>",
            "    </server>",
            "  </servers>",
            f"  <!-- build {self.decoy('uuid', g.uuid())} -->",
            "</settings>",
            "",
        ])

    def ini(self) -> str:
        g = self.g
        return "\n".join([
            "[client]",
            "user = shop",
            f"password = {self.secret('secret-assignment', g.password())}",
            "",
            "[alembic]",
            f"sqlalchemy.url = mysql+pymysql://shop:{self.secret('url-password', g.url_password())}"
            "@localhost/shop",
            "",
        ])

    def firebase_js(self) -> str:
        g = self.g
        return "\n".join([
            "const firebaseConfig = {",
            f'  apiKey: "{self.secret("google-api-key", g.google())}",',
            '  authDomain: "acme-shop.firebaseapp.com",',
            f'  appId: "1:{g.rng.randint(10**11, 10**12)}:web:{self.decoy("hash", g.s(HEX, 22))}",',
            "};",
            f"const stripe = require('stripe')('{self.secret('stripe-key', g.stripe())}');",
            f"const pub = Stripe('{self.decoy('public-key', g.stripe_publishable())}');",
            f'const bg = "{self.decoy("colour", g.colour())}";',
            "",
        ])

    def html(self) -> str:
        g = self.g
        image = self.decoy("base64-image", g.image(g.rng.randint(1500, 12000)))
        sri = self.decoy("hash", base64.b64encode(bytes(g.rng.getrandbits(8)
                                                        for _ in range(48))).decode())
        return "\n".join([
            "<!doctype html>",
            "<html><head>",
            f'<script src="/static/app.js" integrity="sha384-{sri}" crossorigin></script>',
            f'<style>body {{ color: {self.decoy("colour", g.colour())}; }}</style>',
            "</head><body>",
            f'<img alt="logo" src="data:image/png;base64,{image}">',
            f'<a href="{self.decoy("route", "/api/v1/orders/export")}">export</a>',
            '<img alt="hero" src="' + self.decoy(
                "url-query", "https://images.acme.dev/p/42.jpg?w=640&h=480&sig=" + g.s(HEX, 32))
            + '">',
            "</body></html>",
            "",
        ])

    def css(self) -> str:
        g = self.g
        font = self.decoy("base64-image", g.image(g.rng.randint(800, 4000)))
        return "\n".join([
            f".btn {{ background: {self.decoy('colour', g.colour())}; "
            f"border-color: {self.decoy('colour', g.colour())}; }}",
            f"@font-face {{ src: url(data:font/woff2;base64,{font}); }}",
            "",
        ])

    def readme(self) -> str:
        g = self.g
        return "\n".join([
            "# Shop",
            "",
            "Set your key before running:",
            "",
            "    " + self.decoy("placeholder", 'export OPENAI_API_KEY="your-api-key-here"'),
            "    " + self.decoy("placeholder", "STRIPE_SECRET_KEY=<your-stripe-secret-key>"),
            "    " + self.decoy("placeholder", "GITHUB_TOKEN=xxxxxxxxxxxxxxxxxxxx"),
            "",
            f"Requires Node {self.decoy('version', 'v' + g.version())} and Python 3.11.",
            f"Deploy key: `{self.decoy('public-key', g.public_ssh())} alice@laptop`",
            f"Run `{self.decoy('system-path', '/usr/bin/python3')} -m shop` or open "
            f"{self.decoy('route', '/api/v1/users')}.",
            "",
            f"The staging token is {self.secret('high-entropy', g.s(ALNUM, 32))} for now.",
            f"My password is {self.secret('secret-assignment', g.password())} on staging.",
            "",
        ])

    def certs(self) -> str:
        g = self.g
        return "\n".join([
            self.decoy("certificate", g.certificate()),
            self.decoy("public-key", g.certificate("PUBLIC KEY")),
            "",
        ])

    def app_log(self) -> str:
        g = self.g
        trace = g.s(HEX, 32)
        win_path = self.secret("path", "D:\\Clients\\Fabrikam\\ledger.xlsx")
        win_home = "C:\\Users\\alice\\AppData\\Local\\Temp"
        self.secret("home-path", win_home, "Users\\alice")
        return "\n".join([
            f"2025-03-04T10:12:00Z INFO request_id={self.decoy('uuid', g.uuid())} "
            f"GET {self.decoy('route', '/api/v1/users/42')} 200",
            f"2025-03-04T10:12:01Z DEBUG trace={self.decoy('hash', trace)} auth header "
            f"Bearer {self.secret('jwt', g.jwt())}",
            "Traceback (most recent call last):",
            f'  File "{self.decoy("repo-path", "src/shop/app/views.py")}", line 12, in index',
            f'  File "{self.secret("home-path", HOME + "/.local/lib/python3.11/x.py", HOME)}",'
            " line 3, in run",
            f'  File "{self.decoy("system-path", "/usr/lib/python3.11/json/decoder.py")}", '
            "line 337, in decode",
            f"FileNotFoundError: {self.secret('path', '/mnt/nas-clients/contoso/export.csv')}",
            f"  while reading {self.secret('path', '/data/patients/2025/batch-7.json')}",
            f"  copied from {win_path}",
            f"  by {win_home}",
            f"WARN slack token {self.secret('slack-token', g.slack_token())} is about to expire",
            f"2025-03-04T10:12:02Z INFO version={self.decoy('version', g.version())}",
            f"peer {self.decoy('colon-fields', '00:1a:2b:3c:4d:5e')} "
            f"at {self.decoy('colon-fields', '2001:db8:85a3:0:0:8a2e:370:7334')}",
            self.decoy("colon-fields", "2001:db8:85a3:0:0:8a2e:370:7334"),
            self.decoy("colon-fields",
                       "postgres:x:26:26:PostgreSQL Server:/var/lib/pgsql:/bin/bash"),
            "",
        ])

    def db_scripts(self) -> str:
        g = self.g
        return "\n".join([
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            f"mysqldump -h db.internal -u backup -p{self.secret('cli-password', g.url_password())}"
            " --single-transaction shop | gzip > shop.sql.gz",
            f"mysql -u root --password={self.secret('cli-password', g.url_password())} shop"
            " < schema.sql",
            f"mysqladmin -uroot -p'{self.secret('cli-password', g.password())}' status",
            "mariadb-dump \\",
            "  --host=db.internal \\",
            "  -u backup \\",
            f"  -p{self.secret('cli-password', g.url_password())} \\",
            "  shop > shop.sql",
            f"sshpass -p '{self.secret('cli-password', g.password())}' ssh deploy@web1.internal"
            " 'systemctl restart shop'",
            "redis-cli -h cache.internal -p 6379 -a "
            f"{self.secret('cli-password', g.url_password())} --no-auth-warning info",
            "redis-cli -h cache.internal --pass "
            f"'{self.secret('cli-password', g.password())}' ping",
            f'echo "db.internal:5432:shop:app:{self.secret("pgpass", g.password())}" > ~/.pgpass',
            f"'/opt/mysql/bin/mysql' -uroot -p'{self.secret('cli-password', g.password())}' shop"
            " < seed.sql",
            self.decoy("cli-prompt", "mysql -h db.internal -P 3306 -u root -p shop"),
            self.decoy("cli-prompt", 'echo "connect with mysql" -p'),
            self.decoy("cli-prompt", "mysql --port=3306 -u app -p"),
            self.decoy("placeholder", 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD" shop'),
            self.decoy("cli-prompt",
                       "sshpass -f /run/secrets/ssh_pass ssh -p 2222 deploy@web1.internal"),
            self.decoy("cli-prompt", "redis-cli -h cache.internal -p 6379 ping"),
            "",
        ])

    def pgpass(self) -> str:
        g = self.g
        return "\n".join([
            self.decoy("colon-fields", "# hostname:port:database:username:password"),
            f"db.internal:5432:shop:app:{self.secret('pgpass', g.password())}",
            f"*:*:*:replicator:{self.secret('pgpass', g.password())}",
            f"/var/run/postgresql:5432:*:postgres:{self.secret('pgpass', g.password())}",
            "",
        ])

    def init_sql(self) -> str:
        g = self.g
        escaped = g.password()
        escaped = escaped[:5] + "\\'" + escaped[5:]  # E'...' takes backslash escapes
        return "\n".join([
            self.decoy("sql-prose", "-- Users are identified by their e-mail address."),
            "CREATE DATABASE shop;",
            f"CREATE USER 'shop'@'%' IDENTIFIED BY '{self.secret('sql-password', g.password())}';",
            "GRANT ALL PRIVILEGES ON shop.* TO 'shop'@'%';",
            "ALTER USER 'root'@'localhost'",
            "  IDENTIFIED WITH mysql_native_password BY "
            f"'{self.secret('sql-password', g.password())}';",
            self.decoy("sql-prose", "CREATE USER 'ops'@'localhost' IDENTIFIED WITH auth_socket;"),
            self.decoy("sql-prose", "CREATE USER 'tmp'@'%' IDENTIFIED BY RANDOM PASSWORD;"),
            "create role reporting with login password "
            f"'{self.secret('sql-password', g.password())}';",
            self.decoy("sql-prose", "ALTER ROLE reporting PASSWORD NULL;"),
            f"CREATE USER scott IDENTIFIED BY {self.secret('sql-password', g.oracle_password())};",
            f"SET PASSWORD FOR 'shop'@'%' = '{self.secret('sql-password', g.password())}';",
            self.decoy("sql-prose", "-- the reporting role is identified by 'reporting' in charts"),
            f"CREATE LOGIN shop_app WITH PASSWORD = N'{self.secret('sql-password', g.password())}'"
            ", CHECK_POLICY = ON;",
            f"ALTER LOGIN sa WITH PASSWORD = N'{self.secret('sql-password', g.password())}' "
            f"OLD_PASSWORD = N'{self.secret('sql-password', g.password())}';",
            self.decoy("placeholder", "CREATE LOGIN ci WITH PASSWORD = N'$(CI_PASSWORD)';"),
            f"ALTER ROLE reporting WITH PASSWORD E'{self.secret('sql-password', escaped)}';",
            f"CREATE ROLE etl LOGIN PASSWORD $${self.secret('sql-password', g.password())}$$;",
            f"ALTER ROLE etl PASSWORD $pw${self.secret('sql-password', g.password())}$pw$;",
            self.decoy("sql-prose", "-- the app runs: ALTER ROLE etl PASSWORD $1;"),
            "",
        ])

    def jwk_private(self, size: int) -> str:
        return self.secret("jwk-private-key", self.g.jwk_part(size))

    def jwks(self) -> str:
        g = self.g
        private = self.jwk_private
        rsa = {"kty": "RSA", "kid": self.decoy("uuid", g.uuid()), "use": "sig", "alg": "RS256",
               "n": self.decoy("jwk-public", g.jwk_part(256)), "e": "AQAB", "d": private(256),
               "p": private(128), "q": private(128), "dp": private(128), "dq": private(128),
               "qi": private(128)}
        ec = {"kty": "EC", "crv": "P-256", "x": self.decoy("jwk-public", g.jwk_part(32)),
              "y": self.decoy("jwk-public", g.jwk_part(32)), "d": private(32)}
        symmetric = {"kty": "oct", "alg": "HS256", "k": private(32)}
        return json.dumps({"keys": [rsa, ec, symmetric]}, indent=2) + "\n"

    def backup_py(self) -> str:
        g = self.g
        return "\n".join([
            "import subprocess",
            "",
            "",
            "def dump() -> None:",
            "    subprocess.run([",
            '        "mysqldump",',
            '        "-h", "db.internal",',
            '        "-ubackup",  # read-only user',
            f'        "-p{self.secret("cli-password", g.url_password())}",',
            '        "--single-transaction",',
            '        "shop",',
            "    ], check=True)",
            "",
            "",
            "def restore() -> None:",
            "    subprocess.run(" + self.decoy(
                "cli-prompt", '[\n        "mysql",\n        "-uroot",\n        "-p",\n'
                              '        "shop",\n    ]') + ", check=True)",
            "",
        ])

    def backup_ps1(self) -> str:
        g = self.g
        return "\n".join([
            "$ErrorActionPreference = 'Stop'",
            '& "C:\\Program Files\\MySQL\\MySQL Server 8.0\\bin\\mysqldump.exe" -u backup '
            f"-p{self.secret('cli-password', g.url_password())} shop > shop.sql",
            self.decoy("cli-prompt",
                       '& "C:\\Program Files\\MySQL\\MySQL Server 8.0\\bin\\mysql.exe" '
                       "-u root -p shop"),
            "",
        ])

    def jwk_yaml(self) -> str:
        g = self.g
        private = self.jwk_private
        return "\n".join([
            "signing:",
            "  keys:",
            f"    - kid: {self.decoy('uuid', g.uuid())}",
            "      kty: RSA",
            f"      n: {self.decoy('jwk-public', g.jwk_part(256))}",
            "      e: AQAB",
            f"      d: {private(256)}",
            f"      p: \"{private(128)}\"",
            "      key_ops:",
            "      - sign",
            f"      q: {private(128)}  # second prime",
            "    - kty: oct",
            "      alg: HS256",
            f"      k: '{private(32)}'",
            "",
        ])

    def jwk_code(self) -> str:
        g = self.g
        nested = {"kty": "RSA", "n": self.decoy("jwk-public", g.jwk_part(256)), "e": "AQAB",
                  "oth": [{"r": self.jwk_private(64), "d": self.jwk_private(64),
                           "t": self.jwk_private(64)}],
                  "d": self.jwk_private(256)}
        return "\n".join([
            "from jwcrypto import jwk",
            "",
            "HMAC_KEY = jwk.JWK(kty=\"oct\", alg=\"HS256\", "
            f"k=\"{self.jwk_private(32)}\")",
            f"RSA_KEY = jwk.JWK.from_json('{json.dumps(nested, separators=(',', ':'))}')",
            "",
        ])

    def task_text(self) -> str:
        g = self.g
        return "\n".join([
            "Our deploy fails with 401. I use the token "
            f"{self.secret('github-fine-grained-token', g.github_fine())} and the GitLab one "
            f"{self.secret('gitlab-token', g.gitlab())}.",
            f"The Google key is {self.secret('google-api-key', g.google())}; the Anthropic key "
            f"{self.secret('anthropic-key', g.anthropic())}.",
            f"Also tried pypi {self.secret('pypi-token', g.pypi())} and "
            f"{self.secret('sendgrid-key', g.sendgrid())}.",
            "The repo is at " + self.decoy("repo-path", "src/shop") + " under my home.",
            "",
        ])


def build_corpus(seed: int = 0, projects: int = 3) -> Corpus:
    """The corpus for `seed`: `projects` copies of a project's files with fresh values."""
    corpus = Corpus()
    gen = _Gen(seed)
    files = ("env", "config_yaml", "compose", "k8s_secret", "appsettings", "service_account",
             "deploy_sh", "settings_py", "config_toml", "npmrc", "pypirc", "netrc", "diff",
             "package_lock", "yarn_lock", "poetry_lock", "go_sum", "git_log", "workflow",
             "terraform", "maven_xml", "ini", "firebase_js", "html", "css", "readme", "certs",
             "app_log", "db_scripts", "pgpass", "init_sql", "jwks", "backup_py", "backup_ps1",
             "jwk_yaml", "jwk_code", "task_text")
    names = {"env": ".env", "config_yaml": "config/application.yml",
             "compose": "docker-compose.yml", "k8s_secret": "deploy/k8s.yaml",
             "appsettings": "appsettings.json", "service_account": "gcp/credentials.json",
             "deploy_sh": "scripts/deploy.sh", "settings_py": "shop/settings.py",
             "config_toml": "pyproject.toml", "npmrc": ".npmrc", "pypirc": ".pypirc",
             "netrc": ".netrc", "diff": "changes.diff", "package_lock": "package-lock.json",
             "yarn_lock": "yarn.lock", "poetry_lock": "poetry.lock", "go_sum": "go.sum",
             "git_log": "git-log.txt", "workflow": ".github/workflows/ci.yml",
             "terraform": "infra/main.tf", "maven_xml": "settings.xml", "ini": "my.cnf",
             "firebase_js": "web/config.js", "html": "web/index.html", "css": "web/app.css",
             "readme": "README.md", "certs": "certs/chain.pem", "app_log": "logs/app.log",
             "db_scripts": "scripts/db.sh", "pgpass": ".pgpass", "init_sql": "db/init.sql",
             "jwks": "keys/jwks.json", "backup_py": "scripts/backup.py",
             "backup_ps1": "scripts/backup.ps1", "jwk_yaml": "config/jwk.yaml",
             "jwk_code": "shop/keys.py", "task_text": "task.txt"}
    for index in range(projects):
        builder = _Builder(corpus, gen, f"p{seed}-{index}")
        for name in files:
            builder.add(names[name], getattr(builder, name))
    return corpus


@dataclass
class Score:
    """How a redactor did on a corpus."""

    planted: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    misses: list[Planted] = field(default_factory=list)
    false_positives: list[Decoy] = field(default_factory=list)
    decoys: int = 0

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.planted.values()))

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / max(1, self.decoys)


def evaluate(corpus: Corpus) -> Score:
    """Redact the corpus as one payload (one Redactor, every file) and score it."""
    from consilium_cli.council.redact import Redactor

    redactor = Redactor(repo_root=Path(corpus.repo_root), home=Path(corpus.home))
    names = list(corpus.files)
    results = redactor.redact_all([corpus.files[name] for name in names])
    redacted = {name: result.text for name, result in zip(names, results)}
    score = Score(decoys=len(corpus.decoys))
    for secret in corpus.secrets:
        score.planted[secret.kind] += 1
        if leaked(secret, redacted[secret.file]):
            score.misses.append(secret)
        else:
            score.caught[secret.kind] += 1
    score.false_positives = [d for d in corpus.decoys if not survived(d, redacted[d.file])]
    return score


def build_payload(size: int, seed: int = 0) -> str:
    """At least `size` characters of corpus text (fresh seeds until it is large enough)."""
    parts: list[str] = []
    total = 0
    while total < size:
        for name, text in build_corpus(seed).files.items():
            chunk = f"==> {name} <==\n{text}\n"
            parts.append(chunk)
            total += len(chunk)
        seed += 1
    return "".join(parts)


def write_corpus(corpus: Corpus, out_dir: Path) -> None:
    for name, text in corpus.files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    manifest = {"home": corpus.home, "repo_root": corpus.repo_root,
                "secrets": [s.__dict__ | {"probes": list(s.probes)} for s in corpus.secrets],
                "decoys": [d.__dict__ for d in corpus.decoys]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--out", type=Path, help="folder to write to (default: a new "
                                                 "temporary folder)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="redact-corpus-"))
    corpus = build_corpus(args.seed, args.projects)
    write_corpus(corpus, out)
    print(f"{len(corpus.files)} files, {len(corpus.secrets)} secrets, "
          f"{len(corpus.decoys)} look-alikes, {corpus.size} characters -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
