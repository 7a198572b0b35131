"""`consilium kb index | search | stats | add | validate`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt

if TYPE_CHECKING:
    from consilium_cli.config import LoadedSettings
    from consilium_cli.kb.indexer import IndexReport, ProgressFn
    from consilium_cli.kb.ingest import Problem

app = typer.Typer(help="Knowledge bases: index, search, inspect, add and validate the "
                       "files each agent cites.", no_args_is_help=True)

RoleOpt = Annotated[str | None, typer.Option(
    "--role", "-r", help="One role: dev, security, qa, architect, ux or seo.")]


def _role(value: str | None) -> str | None:
    from consilium_cli.council.roles import ROLES
    from consilium_cli.errors import UsageError

    if value is None:
        return None
    role = value.strip().lower()
    if role not in ROLES:
        raise UsageError(f"unknown role {value!r}", hint=f"valid roles: {', '.join(ROLES)}")
    return role


def _write_json(app_ctx: AppContext, payload: Any) -> None:
    from consilium_cli.ui.console import write_json

    write_json(app_ctx.stdout, payload)


def _problem_lines(app_ctx: AppContext, problems: list[Problem], *, to_stderr: bool) -> None:
    from consilium_cli.ui.safe_text import safe

    console = app_ctx.err if to_stderr else app_ctx.out
    for problem in problems:
        console.print(safe(str(problem), "fail"))


def _collect(app_ctx: AppContext, loaded: LoadedSettings, roles: list[str] | None = None,
             *, json_out: bool = False) -> Any:
    """Parse and validate every knowledge file; problems are listed and exit 2."""
    from consilium_cli.errors import UsageError
    from consilium_cli.kb.indexer import collect
    from consilium_cli.kb.locations import sources

    result = collect(sources(loaded.settings), roles)
    if result.problems:
        if not json_out:
            _problem_lines(app_ctx, result.problems, to_stderr=True)
        files = len({p.file for p in result.problems})
        raise UsageError(f"{len(result.problems)} problem(s) in {files} knowledge file(s); "
                         "nothing was indexed", hint="consilium kb validate")
    return result


@contextmanager
def _progress(app_ctx: AppContext) -> Iterator[ProgressFn | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not getattr(app_ctx.stderr, "isatty", lambda: False)():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=app_ctx.err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def _run_index(app_ctx: AppContext, loaded: LoadedSettings, roles: list[str] | None,
               rebuild: bool, json_out: bool) -> tuple[IndexReport, Any]:
    from consilium_cli.kb.indexer import index_documents, load_embedder
    from consilium_cli.kb.locations import index_dir

    result = _collect(app_ctx, loaded, json_out=json_out)
    embedder, choice = load_embedder(loaded.settings)
    try:
        with _progress(app_ctx) as progress:
            report = index_documents(index_dir(loaded), result.documents, roles=roles,
                                     embedder=embedder, rebuild=rebuild, progress=progress)
    finally:
        if embedder is not None:
            embedder.close()
    return report, choice


def _report_payload(report: IndexReport, choice: Any, where: Path) -> dict[str, Any]:
    return {
        "index": str(where), "documents": report.documents, "passages": report.passages,
        "added": report.added, "changed": report.changed, "removed": report.removed,
        "unchanged": report.unchanged, "embedded": report.embedded,
        "rebuilt": report.rebuilt, "rebuild_reason": report.rebuild_reason,
        "search": "hybrid" if report.embedding_model else "full-text",
        "embedding_model": report.embedding_model,
        "embedding_note": "" if report.embedding_model else choice.reason,
        "warnings": report.warnings, "seconds": round(report.seconds, 3),
    }


def _render_report(app_ctx: AppContext, payload: dict[str, Any], hint: str) -> None:
    from consilium_cli.ui.render import status_line

    counts = (f"{len(payload['added'])} added, {len(payload['changed'])} changed, "
              f"{len(payload['removed'])} removed, {payload['unchanged']} unchanged")
    if payload["embedding_model"]:
        counts += f"; {payload['embedded']} embedded"
    rebuilt = f" (rebuilt: {payload['rebuild_reason']})" if payload["rebuilt"] else ""
    app_ctx.out.print(status_line(
        "ok", "indexed", f"{payload['passages']} passages from {payload['documents']} "
                         f"documents: {counts} in {payload['seconds']:.1f} s{rebuilt}"))
    if payload["embedding_model"]:
        app_ctx.out.print(status_line("ok", "search", f"hybrid: full-text + vectors from "
                                                      f"{payload['embedding_model']}"))
    else:
        app_ctx.out.print(status_line("warn", "search",
                                      f"full-text only: {payload['embedding_note']}", hint))
    for warning in payload["warnings"]:
        app_ctx.err.print(status_line("warn", "version", warning))
    app_ctx.out.print(status_line("info", "index", payload["index"]))


@app.command("index")
def index(
    ctx: typer.Context,
    role: RoleOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and write it "
                                                            "again from the files.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Index the knowledge files; only passages that changed are written again."""
    from consilium_cli.kb.locations import index_dir

    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    selected = _role(role)
    report, choice = _run_index(app_ctx, loaded, [selected] if selected else None, rebuild,
                                json_out)
    payload = _report_payload(report, choice, index_dir(loaded))
    if json_out:
        _write_json(app_ctx, payload)
        return
    _render_report(app_ctx, payload, "" if choice.disabled else choice.hint)


@app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for, in English or Russian.")],
    role: RoleOpt = None,
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=50,
                                   help="How many passages.")] = 5,
    json_out: JsonOpt = False,
) -> None:
    """Search the knowledge index (hybrid when the embedding model is present)."""
    from consilium_cli.errors import UsageError
    from consilium_cli.kb.retrieve import KnowledgeBase

    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    selected = _role(role)
    if not query.strip():
        raise UsageError("the query is empty", hint='consilium kb search "password storage"')
    base = KnowledgeBase.from_settings(loaded)
    status = base.status()
    if not status.indexed:
        raise UsageError(status.note, hint=status.hint)
    try:
        result = base.search(query, role=selected, k=k)
    finally:
        base.close()
    if json_out:
        _write_json(app_ctx, {"query": query, "role": selected, "mode": result.mode,
                              "note": status.note,
                              "passages": [p.to_dict() for p in result.passages]})
        return
    _render_results(app_ctx, result, status)


def _render_results(app_ctx: AppContext, result: Any, status: Any) -> None:
    from rich.text import Text

    from consilium_cli.ui.render import status_line
    from consilium_cli.ui.safe_text import safe

    if status.note:
        app_ctx.err.print(status_line("info", "search", status.note, status.hint))
    if not result.passages:
        app_ctx.out.print(safe("no passage matches", "warn"))
        return
    for number, passage in enumerate(result.passages, 1):
        head = Text(f"{number}. ")
        head.append_text(safe(passage.citation, f"role.{passage.role}"))
        head.append_text(safe(f"  {passage.title}", "title"))
        head.append_text(safe(f"  ({passage.source_file}, v{passage.doc_version}, "
                              f"score {passage.score:.3f}, {passage.matched_by})", "muted"))
        app_ctx.out.print(head)
        snippet = passage.text.strip()
        if len(snippet) > 400:
            snippet = snippet[:400].rsplit(" ", 1)[0] + " …"
        app_ctx.out.print(safe(_indent(snippet)))
        app_ctx.out.print()


def _indent(text: str) -> str:
    return "\n".join(f"   {line}" if line else "" for line in text.split("\n"))


@app.command("stats")
def stats(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """What the index holds and how it searches (full-text only or hybrid)."""
    from consilium_cli.kb.locations import sources
    from consilium_cli.kb.retrieve import KnowledgeBase
    from consilium_cli.kb.store import read_meta

    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    base = KnowledgeBase.from_settings(loaded)
    status = base.status()
    meta = read_meta(base.index_dir)
    payload = {
        "index": str(base.index_dir), "indexed": status.indexed, "search": status.mode,
        "passages": status.passages, "documents": status.documents,
        "roles": status.roles or {}, "languages": meta.languages if meta else {},
        "embedding_model": status.embedding_model if status.hybrid else None,
        "vectors_in_index": status.vectors_in_index,
        "history_rows": meta.history_rows if meta else 0,
        "updated_at": meta.updated_at if meta else None,
        "note": status.note, "hint": status.hint,
        "sources": [{"folder": str(s.folder), "kind": s.kind, "exists": s.folder.is_dir()}
                    for s in sources(loaded.settings)],
    }
    if json_out:
        _write_json(app_ctx, payload)
        return
    from consilium_cli.ui.render import status_line

    out = app_ctx.out
    if not status.indexed:
        out.print(status_line("warn", "index", status.note, status.hint))
    else:
        by_role = ", ".join(f"{r} {n}" for r, n in payload["roles"].items())
        by_language = ", ".join(f"{lang} {n}" for lang, n in payload["languages"].items())
        out.print(status_line("ok", "index", f"{status.passages} passages in "
                                             f"{status.documents} documents at "
                                             f"{payload['index']}"))
        out.print(status_line("info", "roles", by_role or "-"))
        out.print(status_line("info", "languages", by_language or "-"))
        out.print(status_line("info", "history", f"{payload['history_rows']} recorded "
                                                 f"versions; last indexed "
                                                 f"{payload['updated_at']}"))
        if status.hybrid:
            out.print(status_line("ok", "search", f"hybrid: full-text + vectors from "
                                                  f"{status.embedding_model}"))
        else:
            out.print(status_line("warn", "search", status.note, status.hint))
    for source in payload["sources"]:
        state = "" if source["exists"] else " (missing)"
        out.print(status_line("info", f"source ({source['kind']})",
                              f"{source['folder']}{state}"))


@app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A markdown file with front matter "
                                              "(kb/STANDARDS.md).")],
    role: Annotated[str, typer.Option("--role", "-r", help="The role whose knowledge it "
                                                           "is.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a file of the same name "
                                                        "already added.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Validate a knowledge file, copy it into your knowledge folder, and index it."""
    from consilium_cli.errors import UsageError
    from consilium_cli.kb.ingest import load_document
    from consilium_cli.kb.locations import index_dir, user_kb_dir
    from consilium_cli.tools.atomic import atomic_write_bytes

    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    selected = _role(role)
    assert selected is not None
    source = file.expanduser()
    if not source.is_file():
        raise UsageError(f"{source} is not a file", hint="pass the path of a .md file")
    if source.suffix.lower() != ".md":
        raise UsageError(f"{source} is not a markdown (.md) file")
    _document, problems = load_document(source, folder_role=selected)
    if problems:
        if not json_out:
            _problem_lines(app_ctx, problems, to_stderr=True)
        raise UsageError(f"{source} has {len(problems)} problem(s); nothing was added",
                         hint="see kb/STANDARDS.md for the front matter rules")
    target = user_kb_dir() / selected / source.name
    data = source.read_bytes()
    previous = target.read_bytes() if target.exists() else None
    if previous is not None and previous != data and not force:
        raise UsageError(f"{target} already exists with other content",
                         hint=f"consilium kb add {source} --role {selected} --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, data)
    try:
        report, choice = _run_index(app_ctx, loaded, [selected], False, json_out)
    except BaseException:
        # Leave the folder as it was: a file that breaks the set is not kept.
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            atomic_write_bytes(target, previous)
        raise
    payload = _report_payload(report, choice, index_dir(loaded))
    payload["added_file"] = str(target)
    if json_out:
        _write_json(app_ctx, payload)
        return
    from consilium_cli.ui.render import status_line

    app_ctx.out.print(status_line("ok", "added", str(target)))
    _render_report(app_ctx, payload, "" if choice.disabled else choice.hint)


@app.command("validate")
def validate(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Check every knowledge file's front matter and sections; exit 2 on any problem."""
    from consilium_cli.kb.indexer import collect
    from consilium_cli.kb.locations import sources

    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    result = collect(sources(loaded.settings))
    passages = sum(len(d.chunks) for d in result.documents)
    if json_out:
        _write_json(app_ctx, {
            "ok": result.ok, "documents": len(result.documents), "passages": passages,
            "problems": [{"file": str(p.file), "line": p.line, "message": p.message}
                         for p in result.problems]})
    else:
        from consilium_cli.ui.render import status_line

        _problem_lines(app_ctx, result.problems, to_stderr=False)
        if result.ok:
            app_ctx.out.print(status_line("ok", "valid", f"{len(result.documents)} documents, "
                                                         f"{passages} passages"))
        else:
            files = len({p.file for p in result.problems})
            app_ctx.out.print(status_line("fail", "invalid",
                                          f"{len(result.problems)} problem(s) in {files} "
                                          "file(s)", "see kb/STANDARDS.md"))
    if not result.ok:
        raise typer.Exit(2)
