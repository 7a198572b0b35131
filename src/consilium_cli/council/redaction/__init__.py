"""Redaction of everything that leaves the machine (the Director's payload).

The public API is `consilium_cli.council.redact`. A `Redactor` replaces secrets with
placeholders such as `[REDACTED:github-token#1]`: one Redactor serves one payload (task,
transcript, files), the same value always gets the same placeholder, numbered per kind, and
the placeholder -> value map stays in memory so that `restore()` can put the values back
into a Director's plan locally. Values are matched in full, never cut short.

How a text is redacted:

1. `detect.py` runs every detector, in a fixed order; each returns candidate spans
   (start, end, kind, priority):
   - `keys.py`: PEM and PuTTY private key blocks, private members of a JSON Web Key;
   - `tokens.py`: token formats told by a known prefix (ghp_, sk-, AKIA, xoxb-, JWTs ...);
   - `urls.py`: passwords in URLs and `curl -u`, Azure SAS signatures;
   - `commands.py`: passwords on command lines (`mysql -pX`, `sshpass -p`, `redis-cli -a`);
   - `pgpass.py`: the password field of a `.pgpass` line;
   - `sql.py`: `IDENTIFIED BY '...'`, `PASSWORD '...'` in SQL statements;
   - `assignments.py`: values assigned to a name that says secret (.env, YAML, JSON,
     code, flags, query strings ...), falling back to
   - `near.py`: a secret-looking value near such a name in any syntax, Russian names too.
   Shared by them: `names.py` (what a name says), `values.py` (whether a value is a literal
   secret or a reference, placeholder, version ...), `text.py` (offsets and line windows).
2. The Redactor (`redactor.py`) adds placeholders already in the text (kept), the user's
   `redact.extra_patterns` (kind `custom`), paths (`paths.py`) and every other occurrence
   of a value found by its context, and drops `redact.allow` values.
3. `resolve.py` makes the spans non-overlapping by priority (`spans.py`): a specific format
   beats the generic rule that also matched.
4. The Redactor replaces each span by its placeholder (or `~` for a home directory).

`trim.py` cuts a redacted text to a budget without splitting a placeholder; `kinds.py`
lists the kinds. Text that already contains placeholders keeps them; a placeholder written
in the input can never be restored to a value (it would let a file smuggle a secret into a
plan). Cost is linear in the text: every scan starts at a literal, and a name's line is only
looked at within a window.
"""
