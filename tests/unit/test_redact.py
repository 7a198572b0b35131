"""Redaction rules, one kind at a time, on full realistic values.

Secret-shaped values are built at run time (a fixed seed), so the repository itself never
holds strings that secret scanners would flag.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

import pytest

from consilium_cli.council.redact import KINDS, PLACEHOLDER, RedactionRules, Redactor, redact
from consilium_cli.errors import ConfigError

RNG = random.Random(20250304)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
UPPER = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"


def rand(chars: str, n: int) -> str:
    return "".join(RNG.choice(chars) for _ in range(n))


def pem(label: str, body_bytes: int = 600, width: int = 64, headers: tuple[str, ...] = ()) -> str:
    body = base64.b64encode(bytes(RNG.getrandbits(8) for _ in range(body_bytes))).decode()
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    return "\n".join([f"-----BEGIN {label}-----", *headers, *lines, f"-----END {label}-----"])


def jwt() -> str:
    def enc(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = enc(json.dumps({"sub": "1234567890", "name": "Jane Doe", "iat": 1516239022})
                  .encode())
    return f"{header}.{payload}.{enc(bytes(RNG.getrandbits(8) for _ in range(32)))}"


SECRETS: dict[str, list[str]] = {
    "aws-access-key-id": ["AKIA" + rand(UPPER, 16), "ASIA" + rand(UPPER, 16)],
    "aws-secret-key": [rand(B64, 40)],
    "github-token": [p + "_" + rand(ALNUM, 36) for p in ("ghp", "gho", "ghu", "ghs", "ghr")],
    "github-fine-grained-token": ["github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)],
    "gitlab-token": ["glpat-" + rand(ALNUM + "_-", 20)],
    "slack-token": [
        f"xoxb-{rand(string.digits, 13)}-{rand(string.digits, 13)}-{rand(ALNUM, 24)}",
        f"xoxp-{rand(string.digits, 12)}-{rand(string.digits, 12)}-{rand(string.digits, 13)}-"
        f"{rand(HEX, 32)}",
        f"xoxa-2-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{rand(HEX, 32)}",
        f"xoxr-{rand(string.digits, 12)}-{rand(ALNUM, 40)}",
        f"xapp-1-A{rand(UPPER, 10)}-{rand(string.digits, 13)}-{rand(HEX, 64)}",
    ],
    "openai-key": [
        "sk-" + rand(ALNUM, 20) + "T3BlbkFJ" + rand(ALNUM, 20),
        "sk-proj-" + rand(B64URL, 74) + "T3BlbkFJ" + rand(B64URL, 74),
        "sk-svcacct-" + rand(B64URL, 74) + "T3BlbkFJ" + rand(B64URL, 74),
    ],
    "anthropic-key": ["sk-ant-api03-" + rand(B64URL, 93) + "AA"],
    "stripe-key": ["sk_live_51" + rand(ALNUM, 97), "sk_test_" + rand(ALNUM, 24),
                   "rk_live_51" + rand(ALNUM, 97), "rk_test_51" + rand(ALNUM, 97)],
    "stripe-webhook-secret": ["whsec_" + rand(ALNUM, 32)],
    "google-api-key": ["AIza" + rand(B64URL, 35)],
    "google-oauth": ["GOCSPX-" + rand(B64URL, 28), "ya29." + rand(B64URL, 150)],
    "huggingface-token": ["hf_" + rand(string.ascii_letters, 34)],
    "npm-token": ["npm_" + rand(ALNUM, 36)],
    "pypi-token": ["pypi-AgEIcHlwaS5vcmc" + rand(B64URL, 150)],
    "sendgrid-key": ["SG." + rand(B64URL, 22) + "." + rand(B64URL, 43)],
    "jwt": [jwt()],
}
# Token formats found anywhere, even without a telling name next to them.
FORMAT_CASES = [(kind, value) for kind, values in SECRETS.items() if kind != "aws-secret-key"
                for value in values]


def gone(secret: str, text: str, window: int = 6) -> bool:
    """No piece of the secret (any `window` characters of it) is left in `text`."""
    return not any(secret[i:i + window] in text for i in range(max(1, len(secret) - window + 1)))


@pytest.mark.parametrize(("kind", "value"), FORMAT_CASES)
@pytest.mark.parametrize("template", [
    "{v}",
    "note: {v} was pasted here",
    'config = {{"x": "{v}"}}',
    "curl https://api.example.com/?q={v}&x=1",
])
def test_token_formats_are_replaced_whole_anywhere(kind: str, value: str, template: str) -> None:
    text = template.format(v=value)
    result = redact(text, home=Path("/home/nobody"))
    assert result.text == template.format(v=f"[REDACTED:{kind}#1]")
    assert result.replaced == {kind: 1}
    assert result.mapping == {f"[REDACTED:{kind}#1]": value}


def test_every_planted_kind_is_documented() -> None:
    assert set(SECRETS) | set(PLACED) <= set(KINDS)


def test_aws_secret_key_next_to_its_name_in_every_syntax() -> None:
    secret = SECRETS["aws-secret-key"][0]
    for line in (f"AWS_SECRET_ACCESS_KEY={secret}", f"aws_secret_access_key = {secret}",
                 f'"SecretAccessKey": "{secret}",', f"export AWS_SECRET_ACCESS_KEY='{secret}'",
                 f"aws configure set aws_secret_access_key {secret}",
                 f"  secretAccessKey: {secret}"):
        result = redact(line)
        assert result.replaced == {"aws-secret-key": 1}, line
        assert gone(secret, result.text), line


def test_slack_webhook_keeps_the_host_and_hides_the_path() -> None:
    path = f"T{rand(UPPER, 10)}/B{rand(UPPER, 10)}/{rand(ALNUM, 24)}"
    result = redact(f"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{path}\n")
    assert result.text == \
        "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/[REDACTED:slack-webhook#1]\n"


def test_stripe_publishable_keys_are_public_and_kept() -> None:
    publishable = "pk_live_51" + rand(ALNUM, 97)
    for text in (f"STRIPE_PUBLISHABLE_KEY={publishable}", f"Stripe('{publishable}')",
                 f'"publishableKey": "{publishable}"'):
        assert redact(text).text == text


# ------------------------------------------------------------------------- private keys

PEM_LABELS = ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY",
              "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]


@pytest.mark.parametrize("label", PEM_LABELS)
def test_pem_private_key_block_is_replaced_whole(label: str) -> None:
    key = pem(label, width=70 if label.startswith("OPENSSH") else 64)
    text = f"before\n{key}\nafter\n"
    result = redact(text)
    assert result.text == "before\n[REDACTED:private-key#1]\nafter\n"
    assert result.mapping["[REDACTED:private-key#1]"] == key


def test_encrypted_legacy_pem_with_headers() -> None:
    key = pem("RSA PRIVATE KEY", headers=("Proc-Type: 4,ENCRYPTED",
                                          f"DEK-Info: AES-128-CBC,{rand(HEX, 32).upper()}", ""))
    result = redact(f"key:\n{key}\n")
    assert result.text == "key:\n[REDACTED:private-key#1]\n"


def test_pem_inside_a_json_string_with_escaped_newlines() -> None:
    key = pem("PRIVATE KEY")
    document = json.dumps({"type": "service_account", "private_key": key + "\n",
                           "client_email": "ci@acme.iam.gserviceaccount.com"}, indent=2)
    result = redact(document)
    for line in key.splitlines():
        assert line not in result.text
    assert '"private_key": "[REDACTED:private-key#1]\\n"' in result.text
    assert "ci@acme.iam.gserviceaccount.com" in result.text


def test_pem_added_in_a_diff_and_in_a_yaml_block() -> None:
    key = pem("OPENSSH PRIVATE KEY", width=70)
    diff = "@@ -0,0 +1,30 @@\n" + "\n".join("+" + line for line in key.splitlines()) + "\n"
    result = redact(diff)
    assert result.text == "@@ -0,0 +1,30 @@\n+[REDACTED:private-key#1]\n"
    indented = "tls:\n  key: |\n" + "\n".join("    " + line for line in key.splitlines())
    result = redact(indented + "\nnext: 1\n")
    assert result.text == "tls:\n  key: |\n    [REDACTED:private-key#1]\nnext: 1\n"


def test_pem_without_end_line_is_redacted_to_its_last_key_line() -> None:
    key = pem("RSA PRIVATE KEY")
    truncated = "\n".join(key.splitlines()[:-4])
    result = redact(f"{truncated}\nThe key above was cut off.\n")
    assert result.text == "[REDACTED:private-key#1]\nThe key above was cut off.\n"
    assert all(gone(line, result.text) for line in truncated.splitlines()[1:])


def test_certificates_and_public_keys_are_kept() -> None:
    cert, public = pem("CERTIFICATE"), pem("PUBLIC KEY", 270)
    ssh_public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rand(B64, 43) + " alice@laptop"
    text = f"{cert}\n{public}\n{ssh_public}\n"
    assert redact(text).text == text


def test_putty_and_age_keys() -> None:
    putty = "\n".join(["PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none",
                       "Comment: deploy", "Public-Lines: 2", rand(B64, 64), rand(B64, 20),
                       "Private-Lines: 1", rand(B64, 44), f"Private-MAC: {rand(HEX, 64)}"])
    age = "AGE-SECRET-KEY-1" + rand(string.ascii_uppercase + string.digits, 58)
    result = redact(f"{putty}\n# age\n{age}\n")
    assert result.text == "[REDACTED:private-key#1]\n# age\n[REDACTED:private-key#2]\n"


# ---------------------------------------------------------------------- URL passwords

@pytest.mark.parametrize(("url", "expected"), [
    ("postgres://app:{pw}@db.internal:5432/app", "postgres://app:{r}@db.internal:5432/app"),
    ("mysql+pymysql://shop:{pw}@localhost/shop", "mysql+pymysql://shop:{r}@localhost/shop"),
    ("redis://:{pw}@cache:6379/0", "redis://:{r}@cache:6379/0"),
    ("mongodb+srv://admin:{pw}@cluster0.ab1cd.mongodb.net/?retryWrites=true",
     "mongodb+srv://admin:{r}@cluster0.ab1cd.mongodb.net/?retryWrites=true"),
    ("amqp://guest:{pw}@rabbit//", "amqp://guest:{r}@rabbit//"),
    ("https_proxy=http://alice:{pw}@proxy.corp:3128", "https_proxy=http://alice:{r}@proxy.corp:3128"),
    ("git clone https://oauth2:{pw}@gitlab.com/acme/shop.git",
     "git clone https://oauth2:{r}@gitlab.com/acme/shop.git"),
])
def test_url_password_keeps_user_and_host(url: str, expected: str) -> None:
    password = rand(ALNUM + "!*-_.~", 18)
    result = redact(url.format(pw=password))
    assert result.text == expected.format(r="[REDACTED:url-password#1]")
    assert result.mapping == {"[REDACTED:url-password#1]": password}


def test_url_password_with_at_signs_and_references() -> None:
    assert redact("postgres://u:p@ss@w0rd@db/app").text == \
        "postgres://u:[REDACTED:url-password#1]@db/app"
    for text in ("postgres://app:${DB_PASSWORD}@db/app", "postgres://app:%(pw)s@db/app",
                 "https://user@example.com/x", "git@github.com:acme/shop.git",
                 "https://example.com:8443/path"):
        assert redact(text).text == text


# ------------------------------------------------------------------------- assignments

PASSWORD = "Zq8!vR2#kLp9@wXe"  # shape only; built from no real secret


@pytest.mark.parametrize(("line", "expected"), [
    ("DB_PASSWORD={pw}", "DB_PASSWORD={r}"),
    ("export API_TOKEN={pw}", "export API_TOKEN={r}"),
    ('export SESSION_SECRET="{pw}"', 'export SESSION_SECRET="{r}"'),
    ("set SMTP_PASS={pw}", "set SMTP_PASS={r}"),
    ("  password: {pw}", "  password: {r}"),
    ("  jwt_secret: '{pw}'  # rotated", "  jwt_secret: '{r}'  # rotated"),
    ('  "client_secret": "{pw}",', '  "client_secret": "{r}",'),
    ("SECRET_KEY = '{pw}'", "SECRET_KEY = '{r}'"),
    ('HF_TOKEN: str = "{pw}"', 'HF_TOKEN: str = "{r}"'),
    ("client = Client(api_key=\"{pw}\", timeout=3)", "client = Client(api_key=\"{r}\", timeout=3)"),
    ('webhook_secret = "{pw}"', 'webhook_secret = "{r}"'),
    ("password = {pw}", "password = {r}"),
    ("<password>{pw}</password>", "<password>{r}</password>"),
    ("twine upload --password {pw} dist/*", "twine upload --password {r} dist/*"),
    ("docker run -e ADMIN_TOKEN={pw} app", "docker run -e ADMIN_TOKEN={r} app"),
    ("GET /login?user=bob&password={pw}&next=/", "GET /login?user=bob&password={r}&next=/"),
    ("Server=sql;User Id=sa;Password={pw};", "Server=sql;User Id=sa;Password={r};"),
    ("$env:OPENAI_KEY = '{pw}'", "$env:OPENAI_KEY = '{r}'"),
    ('config["private_key"] = "{pw}"', 'config["private_key"] = "{r}"'),
    ("if token == \"{pw}\":", "if token == \"{r}\":"),
    ("  - \"POSTGRES_PASSWORD={pw}\"", "  - \"POSTGRES_PASSWORD={r}\""),
    ("ENCRYPTION_KEY={pw}", "ENCRYPTION_KEY={r}"),
    ("SECRET_KEY_BASE={pw}", "SECRET_KEY_BASE={r}"),
    ("PGPASSWORD={pw} psql", "PGPASSWORD={r}"),  # a config line: to its end
    ("const credentials = \"{pw}\";", "const credentials = \"{r}\";"),
    ("-DB_PASS={pw}", "-DB_PASS={r}"),
    ("+DB_PASS={pw}", "+DB_PASS={r}"),
    ("machine api.example.com login me password {pw}",
     "machine api.example.com login me password {r}"),
    ("  passwd {pw}", "  passwd {r}"),
    ("curl -u deploy:{pw} https://ci.example.com", "curl -u deploy:{r} https://ci.example.com"),
])
def test_secret_assignments_in_every_syntax(line: str, expected: str) -> None:
    result = redact(line.format(pw=PASSWORD))
    kinds = set(result.replaced)
    assert len(kinds) == 1
    kind = kinds.pop()
    assert result.text == expected.format(r=f"[REDACTED:{kind}#1]")
    assert kind in ("secret-assignment", "basic-auth")


# ------------------------------------------------ passwords told by their place

SAS_SIG = base64.b64encode(bytes(RNG.getrandbits(8) for _ in range(32))).decode() \
    .replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
SAS_URL = ("https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r"
           "&se=2026-01-01T00:00:00Z&spr=https&sig={v}")
PLACED: dict[str, list[str]] = {
    "cli-password": [
        "mysql -uroot -p{v} shop",
        "mysql -u root -p{v}",
        "mysqldump -u backup -p'{v}' --single-transaction shop > shop.sql",
        "mysql -u root --password={v} shop",
        'mariadb -u root --passw="{v}" shop',
        "mysqldump \\\n  -u backup \\\n  -p{v} \\\n  shop > shop.sql",
        'test: ["CMD", "mysqladmin", "ping", "-h", "localhost", "-uroot", "-p{v}"]',
        "docker exec db mysql -uroot -p{v} -e 'SELECT 1'",
        "sshpass -p '{v}' ssh deploy@web1 uptime",
        "sshpass -p{v} scp app.tgz web1:",
        "sshpass -v -p {v} ssh web1",
        "redis-cli -h cache -p 6379 -a {v} ping",
        "redis-cli -h cache --pass '{v}' ping",
        'test: ["CMD", "redis-cli", "-a", "{v}", "ping"]',
        '"C:\\Program Files\\MySQL\\MySQL Server 8.0\\bin\\mysql.exe" -uroot -p{v} shop',
        "& 'C:\\Program Files\\MySQL\\bin\\mysqldump.exe' -u backup --password={v} shop",
        'subprocess.run([\n "mysql",\n "-uroot",\n "-p{v}",\n])',
        "cmd = [\n    'sshpass',  # ssh with a password\n    '-p',\n    '{v}',\n    'ssh',\n]",
        "test:\n  - CMD\n  - mysqladmin\n  - ping\n  - -p{v}\n",
        "steps:\n- run:\n  - mysqladmin\n\n  # ping it\n  - ping\n  - \"-p{v}\"\n",
        "command:\n- redis-cli\n- -a\n- '{v}'  # from the vault\n- ping",
    ],
    "pgpass": [
        "db.internal:5432:shop:app:{v}",
        "*:*:*:replicator:{v}",
        "+localhost:*:shop:app:{v}",
        "/var/run/postgresql:5432:*:postgres:{v}",
        'echo "db:5432:shop:app:{v}" >> ~/.pgpass',
    ],
    "sql-password": [
        "CREATE USER 'app'@'%' IDENTIFIED BY '{v}';",
        "ALTER USER 'root'@'localhost' IDENTIFIED WITH mysql_native_password BY '{v}';",
        "GRANT ALL ON shop.* TO 'app'@'%' IDENTIFIED BY '{v}';",
        "CREATE USER 'app'@'%'\n  IDENTIFIED BY \"{v}\";",
        "create user app with password '{v}';",
        "CREATE ROLE app LOGIN ENCRYPTED PASSWORD '{v}' VALID UNTIL 'infinity';",
        "SET PASSWORD FOR 'app'@'%' = '{v}';",
        "mysql -e \"CREATE USER 'app'@'%' IDENTIFIED BY '{v}'\"",
        "CREATE LOGIN app WITH PASSWORD = N'{v}';",
        "ALTER LOGIN app WITH PASSWORD = n'{v}', CHECK_POLICY = OFF;",
        "CREATE USER 'app'@'%' IDENTIFIED BY N'{v}';",
        "ALTER ROLE app PASSWORD E'{v}';",
        "ALTER ROLE app WITH LOGIN PASSWORD $${v}$$;",
        "CREATE ROLE app LOGIN PASSWORD $pw${v}$pw$ VALID UNTIL 'infinity';",
    ],
    "azure-sas": [
        SAS_URL,
        "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02"
        "&ss=b&sp=rl&se=2026-01-01&sig={v}",
        "GET /c/f.txt?sig={v}&se=2026-01-01T00%3A00%3A00Z&sp=r&sv=2022-11-02 HTTP/1.1",
        "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fq&sig={v}"
        "&se=1767225600&skn=send",
    ],
    "jwk-private-key": [  # the JSON layout of a whole key set is tested below
        'jwk = "{{\\"kty\\":\\"oct\\",\\"k\\":\\"{v}\\"}}"',  # JSON inside a string
        "const key = {{kty: 'oct', k: '{v}', alg: 'HS256'}};",
        "{{'d': '{v}', 'kty': 'OKP', 'crv': 'Ed25519'}}",
        'key = JWK(kty="oct", k="{v}")',
        "key = jwk.JWK(kty='oct', alg='HS256', k='{v}')",
        '{{"kty":"RSA","oth":[{{"r":"abc"}}],"d":"{v}"}}',  # a nested object ends nothing
        '{{"oth":[{{"r":"abc"}}],"kty":"RSA","d":"{v}"}}',
        "jwk:\n  kty: oct\n  k: {v}\n",  # YAML: the members of the same mapping
        "keys:\n- kid: k1\n  k: '{v}'  # HS256\n  key_ops:\n  - sign\n  kty: oct\n",
    ],
}
PLACED_VALUES = {"cli-password": PASSWORD, "pgpass": PASSWORD, "sql-password": PASSWORD,
                 "azure-sas": SAS_SIG, "jwk-private-key": rand(B64URL, 43)}


@pytest.mark.parametrize(("kind", "line"), [(k, line) for k, lines in PLACED.items()
                                             for line in lines])
def test_passwords_told_by_their_place(kind: str, line: str) -> None:
    value = PLACED_VALUES[kind]
    result = redact(line.format(v=value), home=Path("/home/nobody"))
    assert result.text == line.format(v=f"[REDACTED:{kind}#1]")
    assert result.replaced == {kind: 1}
    assert result.mapping == {f"[REDACTED:{kind}#1]": value}


@pytest.mark.parametrize(("line", "value"), [
    ("CREATE USER app WITH PASSWORD 'tiger';", "tiger"),  # short and a plain word
    ("ALTER USER app IDENTIFIED BY 'secretpass';", "secretpass"),
    ("CREATE USER scott IDENTIFIED BY Tiger42x;", "Tiger42x"),  # Oracle: unquoted
    ("CREATE DATABASE LINK l CONNECT TO u IDENTIFIED BY Tiger42x USING 'orcl';", "Tiger42x"),
    ("SET PASSWORD = PASSWORD('tiger');", "tiger"),
    ("mysql -uroot -proot shop", "root"),
])
def test_weak_passwords_are_still_found_by_their_place(line: str, value: str) -> None:
    result = redact(line)
    assert result.total == 1
    assert list(result.mapping.values()) == [value]


@pytest.mark.parametrize("line", [
    "'/opt/mysql/bin/mysql' -uroot -p{v} shop",
    '["C:\\\\mysql\\\\bin\\\\mysql.exe", "-uroot", "-p{v}"]',  # a path escaped in JSON
])
def test_quoted_program_paths_without_path_masking(line: str) -> None:
    result = redact(line.format(v=PASSWORD), rules=RedactionRules.build(mask_paths=False))
    assert result.text == line.format(v="[REDACTED:cli-password#1]")


def test_a_command_named_in_the_arguments_of_another() -> None:
    first, second = "Sshpass-Pw-77x", "Mysql-Pw-88y"
    result = redact(f"sshpass -p {first} mysql -uroot -p{second} shop")
    assert result.text == ("sshpass -p [REDACTED:cli-password#1] "
                           "mysql -uroot -p[REDACTED:cli-password#2] shop")
    listed = redact(f'["sshpass", "-p", "{first}", "mysql", "-p{second}"]')
    assert listed.text == ('["sshpass", "-p", "[REDACTED:cli-password#1]", '
                           '"mysql", "-p[REDACTED:cli-password#2]"]')


def test_sql_login_with_old_password_and_escaped_quote() -> None:
    line = "ALTER LOGIN sa WITH PASSWORD = N'x1y2z3w4' OLD_PASSWORD = N'a9b8c7d6'"
    result = redact(line)
    assert result.text == ("ALTER LOGIN sa WITH PASSWORD = N'[REDACTED:sql-password#1]' "
                           "OLD_PASSWORD = N'[REDACTED:sql-password#2]'")
    assert list(result.mapping.values()) == ["x1y2z3w4", "a9b8c7d6"]
    escaped = redact("ALTER ROLE app PASSWORD E'S3cr3t\\'Pass';")
    assert escaped.text == "ALTER ROLE app PASSWORD E'[REDACTED:sql-password#1]';"
    assert list(escaped.mapping.values()) == ["S3cr3t\\'Pass"]


def test_option_floods_stay_linear_and_correct() -> None:
    """Thousands of `-p` options, continued lines and command names (walking back over
    the continued lines for every option took seconds for 80 KB)."""
    command = f"mysql -uroot -p{PASSWORD} shop\n"
    redacted = "mysql -uroot -p[REDACTED:cli-password#1] shop\n"
    for flood in (" -p\\\n" * 16000, "x -p" * 262144, "mysql -p " * 20000,
                  "sshpass -p x " * 20000, "- mysql\n" * 20000, '"mysql", ' * 20000):
        assert redact(flood + "\n" + command).text == flood + "\n" + redacted
    names = f"mysql -p{PASSWORD} " * 5000
    assert redact(names).text == "mysql -p[REDACTED:cli-password#1] " * 5000


def test_jwk_private_members_are_hidden_and_public_ones_kept() -> None:
    n, x, y = rand(B64URL, 342), rand(B64URL, 43), rand(B64URL, 43)
    private = {name: rand(B64URL, 171) for name in ("d", "p", "q", "dp", "dq", "qi")}
    rsa = {"kty": "RSA", "kid": "2025-signing", "use": "sig", "n": n, "e": "AQAB", **private}
    ec_d, oct_k = rand(B64URL, 43), rand(B64URL, 43)
    ec = {"kty": "EC", "crv": "P-256", "x": x, "y": y, "d": ec_d}
    text = json.dumps({"keys": [rsa, ec, {"kty": "oct", "alg": "HS256", "k": oct_k}]}, indent=2)
    result = redact(text)
    assert result.replaced == {"jwk-private-key": 8}
    for value in (*private.values(), ec_d, oct_k):
        assert gone(value, result.text)
    for value in (n, x, y, "AQAB", "2025-signing", "P-256"):
        assert value in result.text
    assert '"d": "[REDACTED:jwk-private-key#1]"' in result.text


@pytest.mark.parametrize("line", [
    "mysql -u root -p shop",  # -p alone prompts; `shop` is the database
    "mysql -h db -P 3306 -u root -p shop",  # -P is the port
    "mysql -P3306 -uroot -p",
    "mysql --port=3306 -u app -p",
    'mysql -uroot -p"$MYSQL_ROOT_PASSWORD" shop',
    "mysql -uroot -p${DB_PASS} shop",
    'test: ["CMD-SHELL", "mysqladmin ping -uroot -p$$MYSQL_ROOT_PASSWORD"]',
    "mysql -uroot -pPASSWORD shop",
    "mysql_config_editor set --login-path=local --user=root --password",
    "pip install mysql-connector-python -pyz",
    "mkdir -p build/cache && mysql -p",
    "sshpass -f ~/.ssh/pass ssh -p 2222 deploy@web1",  # ssh's -p is a port
    "sshpass -e ssh -p 2222 deploy@web1",
    "redis-cli -h cache -p 6379 ping",
    "redis-cli --askpass -h cache",
    "redis-cli -a $REDIS_PASSWORD ping",
    "# hostname:port:database:username:password",
    "00:1a:2b:3c:4d:5e",
    "2001:db8:85a3:0:0:8a2e:370:7334",
    "postgres:x:26:26:PostgreSQL Server:/var/lib/pgsql:/bin/bash",
    "12:30:45:678:999",
    "db.internal:5432:shop:app:*",
    "Users are identified by their e-mail address.",
    "Users are identified by 'email' in the app table.",
    "We grant them a role; each one is identified by 'badge-42'.",
    "CREATE USER 'ops'@'localhost' IDENTIFIED WITH auth_socket;",
    "CREATE USER 'tmp'@'%' IDENTIFIED BY RANDOM PASSWORD;",
    "ALTER ROLE app PASSWORD NULL;",
    'cur.execute("ALTER USER app IDENTIFIED BY %s", (pw,))',
    "CREATE USER app WITH PASSWORD :pw;",
    "https://images.example.com/p/1.jpg?w=640&sig=0123456789abcdef0123456789abcdef",
    "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=xxxxxxxxxxxxxxxxxxxx",
    "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=<signature>",
    '{"d": 3, "p": "page-2", "q": "running-shoes-2025"}',
    '{"kty": "RSA", "kid": "2025-signing", "e": "AQAB", "alg": "RS256"}',
    'echo "we use mysql" -pS3cr3tPass!',  # a quoted phrase that ends with a name
    '"mysql" -p shop',
    '["mysql", "-uroot", "-p", "shop"]',
    'cmd = [\n    "mysql",\n    "-p",\n    "shop",\n]',
    "- mysql\n    - -pS3cr3tPass!\n",  # a deeper list is not its arguments
    "- mysql\n- other\nthen: -pS3cr3tPass!\n",
    "mysql\n-pS3cr3tPass!",
    "packages:\n  - mysql\n  - postgresql\n  - -p\n",
    "ALTER USER app PASSWORD $1;",  # a parameter, not a dollar quote
    "CREATE LOGIN ci WITH PASSWORD = N'$(CI_PASSWORD)';",
    "CREATE LOGIN app WITH PASSWORD = N'';",
    "SELECT id FROM logins WHERE password = N'x';",
    "if jwk.kty == 'oct':\n    k = 'abcdefghijkl'\n",
    "jwk:\n  kty: oct\nsettings:\n  k: some-config-value\n",
    "- kty: oct\n  alg: HS256\n- name: other\n  d: 2024-01-01-long\n",
    '{"kty":"RSA","n":"AAAAAAAAAAAA"} {"d":"GawgguFyGrWKav7AX4VKUgXX"}',
    "kty: RSA\nn: AAAAAAAAAAAAAAAAAAAA\ne: AQAB\nuse: sig\n",
])
def test_lookalikes_of_passwords_told_by_their_place(line: str) -> None:
    assert redact(line, home=Path("/home/nobody")).text == line


def test_yaml_block_scalar_secret() -> None:
    text = "signing:\n  secret: |\n    line-one-9f8e7d\n    line-two-6c5b4a\nnext: ok\n"
    result = redact(text)
    assert result.text == "signing:\n  secret: |\n    [REDACTED:secret-assignment#1]\nnext: ok\n"


@pytest.mark.parametrize("line", [
    "Authorization: Bearer {t}",
    'curl -H "Authorization: Bearer {t}" https://api.example.com',
    'headers = {{"Authorization": "Bearer {t}"}}',
    "Authorization: token {t}",
    "Authorization: Basic {t}",
])
def test_authorization_credentials(line: str) -> None:
    credential = rand(ALNUM, 40)
    result = redact(line.format(t=credential))
    assert result.text == line.format(t="[REDACTED:authorization#1]")


@pytest.mark.parametrize("line", [
    "SECRET_KEY = os.environ['SECRET_KEY']",
    'api_key = os.getenv("OPENAI_API_KEY")',
    "api_key = settings.OPENAI_API_KEY",
    "token = get_token()",
    "    client = Client(token=token, password=password)",
    "DB_PASSWORD=${DB_PASSWORD}",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    'password: "{{ vault_db_password }}"',
    "OPENAI_API_KEY=your-api-key-here",
    "OPENAI_API_KEY=<your-openai-key>",
    'export OPENAI_API_KEY="your_openai_api_key"',
    "API_TOKEN=xxxxxxxxxxxxxxxx",
    "password: ********",
    "password: null",
    "require_password: true",
    "max_tokens: 1024",
    "password_min_length: 12",
    "token_url: https://oauth2.googleapis.com/token",
    "secret_name: db-credentials",
    "sort_key: created_at",
    "primary_key: id",
    "- key: app",
    "key: password",
    "  aws_access_key_id_env: AWS_ACCESS_KEY_ID",
    '"jsonwebtoken": "^9.0.2",',
    '"@octokit/auth-token": "4.0.0",',
    'jsonwebtoken = "9.2"',
    "Author: Jane Doe <jane@example.com>",
    "keyboard_layout: us",
    "password: str",
    "token: string;",
    'curl -H "Authorization: Bearer $DEPLOY_TOKEN" https://x',
    'headers = {"Authorization": f"Bearer {token}"}',
    "PWD=/usr/src/app",
    "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    "tokenizer: gpt2",
    "passport.use(strategy)",
    "The password reset link expires in 24 hours.",
])
def test_names_references_and_placeholders_that_are_not_secrets(line: str) -> None:
    assert redact(line, home=Path("/home/nobody")).text == line


def test_high_entropy_value_next_to_a_secret_word_in_prose() -> None:
    token = rand(ALNUM, 32)
    result = redact(f"The staging api key is {token} until Friday.")
    assert result.text == "The staging api key is [REDACTED:high-entropy#1] until Friday."
    password = "Cobalt2031!x7Q"
    result = redact(f"My password is {password} on staging.")
    assert result.text == "My password is [REDACTED:secret-assignment#1] on staging."


# ------------------------------------------------------------------------ look-alikes

def test_lookalikes_are_kept() -> None:
    sha1, sha256 = rand(HEX, 40), rand(HEX, 64)
    sha512 = base64.b64encode(bytes(RNG.getrandbits(8) for _ in range(64))).decode()
    uuid = "3f1c2a9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c"
    image = base64.b64encode(b"\x89PNG\r\n" + bytes(RNG.getrandbits(8) for _ in range(3000)))
    text = "\n".join([
        f"commit {sha1}",
        f"index {sha1[:12]}..{sha256[:12]} 100644",
        f'"integrity": "sha512-{sha512}",',
        f'{{file = "keyring-24.3.0-py3-none-any.whl", hash = "sha256:{sha256}"}},',
        f'  resolved "https://registry.yarnpkg.com/@octokit/auth-token/-/auth-token-2.5.0.tgz#{sha1}"',
        f"golang.org/x/oauth2 v0.15.0 h1:{sha512[:43]}=",
        f'"id": "{uuid}", "request_id": "{uuid}"',
        f'<img src="data:image/png;base64,{image.decode()}">',
        f"image: nginx@sha256:{sha256}",
        "color: #1a2b3c; background: #fff;",
        "version = 1.24.3, node v20.11.1, ^4.17.21",
        f"uses: actions/checkout@{sha1}",
        "GET /api/v1/users/42 200",
        "/usr/bin/python3 /etc/nginx/nginx.conf /var/log/syslog /tmp/build.log",
    ])
    assert redact(text, home=Path("/home/nobody")).text == text


# ------------------------------------------------------------------ placeholders, maps

def test_same_secret_same_placeholder_across_texts_and_numbering_per_kind() -> None:
    github = SECRETS["github-token"]
    session = Redactor()
    first = session.redact(f"A={github[0]}\nB={github[1]}\nC={SECRETS['gitlab-token'][0]}\n")
    second = session.redact(f"log: {github[1]} then {github[0]} and {github[2]}\n")
    assert first.text == ("A=[REDACTED:github-token#1]\nB=[REDACTED:github-token#2]\n"
                          "C=[REDACTED:gitlab-token#1]\n")
    assert second.text == ("log: [REDACTED:github-token#2] then [REDACTED:github-token#1] "
                           "and [REDACTED:github-token#3]\n")
    assert session.summary == {"github-token": 5, "gitlab-token": 1}


def test_found_value_is_hidden_wherever_else_it_occurs() -> None:
    session = Redactor()
    env = session.redact(f"DB_PASSWORD={PASSWORD}\n")
    log = session.redact(f"FATAL: auth failed, tried {PASSWORD} for user shop\n")
    assert env.text == "DB_PASSWORD=[REDACTED:secret-assignment#1]\n"
    assert log.text == "FATAL: auth failed, tried [REDACTED:secret-assignment#1] for user shop\n"
    # redact_all looks at every text first: the log written before the .env is covered too.
    both = Redactor().redact_all([f"tried {PASSWORD}\n", f"DB_PASSWORD={PASSWORD}\n"])
    assert [r.text for r in both] == ["tried [REDACTED:secret-assignment#1]\n",
                                     "DB_PASSWORD=[REDACTED:secret-assignment#1]\n"]


def test_restore_round_trip_and_unrestorable_placeholders() -> None:
    values = [SECRETS["openai-key"][1], SECRETS["jwt"][0], PASSWORD]
    original = (f"OPENAI_API_KEY={values[0]}\nAuthorization: Bearer {values[1]}\n"
                f"postgres://app:{values[2]}@db/app\n")
    session = Redactor()
    redacted = session.redact(original)
    assert all(v not in redacted.text for v in values)
    assert session.restore(redacted.text) == original
    plan = "Set [REDACTED:openai-key#1] in the vault; [REDACTED:aws-secret-key#4] is unknown."
    assert session.restore(plan) == \
        f"Set {values[0]} in the vault; [REDACTED:aws-secret-key#4] is unknown."
    assert session.unrestorable(plan) == ["[REDACTED:aws-secret-key#4]"]
    assert set(session.mapping) == set(redacted.mapping)


def test_a_placeholder_written_in_the_input_is_never_restored() -> None:
    secret = SECRETS["github-token"][0]
    session = Redactor()
    planted = session.redact("copy [REDACTED:github-token#1] into deploy.sh\n")
    assert planted.text == "copy [REDACTED:github-token#1] into deploy.sh\n"
    real = session.redact(f"TOKEN={secret}\n")
    assert real.text == "TOKEN=[REDACTED:github-token#2]\n"  # numbering skips the planted one
    assert session.restore("[REDACTED:github-token#1]") == "[REDACTED:github-token#1]"
    assert session.unrestorable("[REDACTED:github-token#1]") == ["[REDACTED:github-token#1]"]
    # A placeholder that shows up in a later text after it was assigned is ambiguous.
    session.redact("and also [REDACTED:github-token#2]\n")
    assert session.restore("[REDACTED:github-token#2]") == "[REDACTED:github-token#2]"


def test_redacting_twice_changes_nothing() -> None:
    text = f"TOKEN={SECRETS['github-token'][0]}\npassword: {PASSWORD}\n"
    once = redact(text).text
    assert redact(once).text == once


def test_values_are_never_shown_by_repr_or_summary() -> None:
    session = Redactor()
    result = session.redact(f"DB_PASSWORD={PASSWORD}\n")
    assert PASSWORD not in repr(result)
    assert PASSWORD not in repr(session)
    assert PASSWORD not in str(result.replaced)


# --------------------------------------------------------------------------- settings

def test_allow_list_values_are_never_replaced() -> None:
    demo = SECRETS["stripe-key"][1]
    rules = RedactionRules.build(allow=[demo, "local-dev-password-1"])
    text = f"STRIPE_KEY={demo}\nDB_PASSWORD=local-dev-password-1\nOTHER_PASSWORD={PASSWORD}\n"
    result = redact(text, rules=rules)
    assert result.text == (f"STRIPE_KEY={demo}\nDB_PASSWORD=local-dev-password-1\n"
                           "OTHER_PASSWORD=[REDACTED:secret-assignment#1]\n")


def test_extra_patterns_become_kind_custom() -> None:
    rules = RedactionRules.build(extra_patterns=[
        r"ACME-[0-9]{6}",                      # the whole match
        r"employee id (\d{5})",                # group 1
        r"cust(?:omer)?=(?P<secret>[a-z]+)",   # a group named secret
    ])
    result = redact("ticket ACME-123456, employee id 48213, customer=globex\n", rules=rules)
    assert result.text == ("ticket [REDACTED:custom#1], employee id [REDACTED:custom#2], "
                           "customer=[REDACTED:custom#3]\n")


def test_invalid_extra_pattern_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        RedactionRules.build(extra_patterns=["(unclosed"])
    assert "redact.extra_patterns" in info.value.message and info.value.hint


def test_rules_from_settings() -> None:
    from consilium_cli.config import RedactSettings

    rules = RedactionRules.from_settings(RedactSettings(extra_patterns=["INT-[0-9]+"],
                                                        allow=["keep-me-123"]))
    assert redact("INT-42 password=keep-me-123", rules=rules).text == \
        "[REDACTED:custom#1] password=keep-me-123"


def test_placeholder_format() -> None:
    result = redact(f"x {SECRETS['npm-token'][0]}")
    assert PLACEHOLDER.fullmatch(result.text[2:])


def test_russian_prose_names() -> None:
    password, token = "Zx9!qwerty7", rand(HEX, 32)
    result = redact(f"мой пароль {password} от стейджа, токен: {token}")
    assert result.text == ("мой пароль [REDACTED:secret-assignment#1] от стейджа, "
                           "токен: [REDACTED:high-entropy#1]")
    assert redact("пароль простой и ключевой момент").text == "пароль простой и ключевой момент"


def test_names_in_capitals_next_to_a_character_that_lowers_to_two() -> None:
    # "İ".lower() is two characters: the rest of the text must still be matched case-blind.
    password = "Zx9!qwerty7"
    for text in (f"İstanbul. ПАРОЛЬ: {password}", f"İzmir, мой ПАРОЛЬ {password}",
                 f"İ PASSWORD: {password}"):
        assert password not in redact(text).text, text


def test_tokens_after_escapes_are_still_found() -> None:
    token = SECRETS["github-token"][0]
    for before in ("token:\\n", "t%3D", "\\t"):
        assert redact(f"{before}{token}").text == f"{before}[REDACTED:github-token#1]"
    assert redact(f"x{token}").text == f"x{token}"  # glued to a word: not a token start


def test_placeholders_in_any_text_of_a_payload_are_never_assigned() -> None:
    token = SECRETS["github-token"][0]
    session = Redactor()
    results = session.redact_all([f"TOKEN={token}", "see [REDACTED:github-token#1]"])
    assert [r.text for r in results] == ["TOKEN=[REDACTED:github-token#2]",
                                         "see [REDACTED:github-token#1]"]
    assert session.unrestorable("[REDACTED:github-token#1] [REDACTED:github-token#2]") == \
        ["[REDACTED:github-token#1]"]


def test_one_long_line_and_big_blobs_stay_linear() -> None:
    """Minified code and large base64url blobs: every name or `eyJ` in them must not
    rescan the whole line (this took seconds per 100 KB when it did)."""
    token = SECRETS["github-token"][0]
    minified = "var a={token:t,key:k,password:p,auth:x};" * 6000 + f"var t='{token}';"
    assert redact(minified).text.endswith("var t='[REDACTED:github-token#1]';")
    blob = base64.urlsafe_b64encode(json.dumps([{"a": i} for i in range(20000)]).encode())
    text = "data " + blob.decode()
    assert redact(text).text == text
    block = "signing:\n  key: |\n" + "".join(f"    {SECRETS['npm-token'][0][:-4]}{i:04d}\n"
                                             for i in range(3000))
    assert redact(block + "next: 1\n").text.endswith("next: 1\n")
