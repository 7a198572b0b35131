"""The kinds of redacted values, each with what it covers (placeholders are named by kind)."""

from __future__ import annotations

KINDS: dict[str, str] = {
    "aws-access-key-id": "AWS access key id (AKIA..., ASIA...)",
    "aws-secret-key": "AWS secret access key (40 characters next to an aws secret name)",
    "github-token": "GitHub classic token (ghp_, gho_, ghu_, ghs_, ghr_)",
    "github-fine-grained-token": "GitHub fine-grained token (github_pat_)",
    "gitlab-token": "GitLab token (glpat-, gldt-, glrt-, ...)",
    "slack-token": "Slack token (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xapp-)",
    "slack-webhook": "Slack webhook path (hooks.slack.com/services/...)",
    "openai-key": "OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)",
    "anthropic-key": "Anthropic API key (sk-ant-)",
    "stripe-key": "Stripe secret or restricted key (sk_live_, sk_test_, rk_live_, rk_test_)",
    "stripe-webhook-secret": "Stripe webhook signing secret (whsec_)",
    "google-api-key": "Google API key (AIza...)",
    "google-oauth": "Google OAuth client secret or access token (GOCSPX-, ya29.)",
    "huggingface-token": "Hugging Face token (hf_)",
    "npm-token": "npm token (npm_)",
    "pypi-token": "PyPI upload token (pypi-)",
    "sendgrid-key": "SendGrid API key (SG.)",
    "jwt": "JSON Web Token (eyJ....eyJ....sig)",
    "private-key": "private key block (PEM, OpenSSH, PGP, PuTTY, age)",
    "url-password": "password inside a URL (scheme://user:PASSWORD@host)",
    "basic-auth": "password in a user:password command-line argument (curl -u)",
    "cli-password": "password on a database or ssh command line (mysql/mysqldump/mariadb "
                    "-pX, sshpass -p X, redis-cli -a X or --pass X)",
    "pgpass": "password field of a .pgpass line (host:port:database:user:PASSWORD)",
    "sql-password": "password in a SQL statement (IDENTIFIED BY '...', PASSWORD '...', "
                    "N'...', E'...', $$...$$)",
    "azure-sas": "signature of an Azure SAS token (sig= next to sv=/se=/sp=)",
    "jwk-private-key": "private member of a JSON Web Key (d, p, q, dp, dq, qi, r, t, k; "
                       "object or YAML mapping with kty)",
    "authorization": "credential after Bearer/Basic/Token in an Authorization value",
    "secret-assignment": "value assigned to a name that says secret/token/password/key",
    "high-entropy": "high-entropy string next to a secret-like name",
    "custom": "match of a redact.extra_patterns setting",
    "path": "absolute path outside the repository and the home directory",
    "home-path": "home directory name (replaced by ~, not a placeholder)",
}
