"""`review` as a service: from a parsed diff and an engine to a ReviewResult.

The CLI, the benchmark and tests call this with the engine they hold; it sizes the groups
to the engine's context, runs every agent through the batched engine and summarises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from consilium_cli.config import Settings
from consilium_cli.llm.engine import CancelToken, Engine
from consilium_cli.review.diff import Diff
from consilium_cli.review.gitinput import read_worktree_lines
from consilium_cli.review.plan import PlanConfig, ReviewPlan, Router, build_plan
from consilium_cli.review.runner import (
    PREAMBLE,
    RULES,
    ReviewEvent,
    ReviewOptions,
    ReviewResult,
    batch_width,
    role_instruction,
    run_review,
)
from consilium_cli.review.verdict import Summarizer, local_summarizer

# Chat-template tokens around one agent's own message and its answer header.
_TEMPLATE_TOKENS = 32


def review_options(settings: Settings, engine: Engine) -> ReviewOptions:
    council = settings.council
    seed = council.seed if council.seed >= 0 else 0
    return ReviewOptions(max_tokens=settings.review.max_tokens,
                         temperature=min(council.temperature, 0.3), top_p=council.top_p,
                         top_k=council.top_k, seed=seed, batch_width=batch_width(engine))


def plan_config(settings: Settings, engine: Engine, options: ReviewOptions,
                roles: Sequence[str]) -> PlanConfig:
    """Group sizes from the engine's context and what each agent adds to it."""
    own = max(engine.count_tokens(role_instruction(r)) for r in roles)
    overhead = engine.count_tokens(PREAMBLE + RULES) + 2 * _TEMPLATE_TOKENS + 64
    return PlanConfig(n_ctx=engine.info.n_ctx,
                      per_agent_tokens=own + _TEMPLATE_TOKENS + options.max_tokens,
                      batch_width=options.batch_width,
                      context_lines=settings.review.context_lines,
                      max_file_bytes=settings.review.max_file_kb * 1000,
                      overhead_tokens=overhead)


def make_plan(diff: Diff, engine: Engine, settings: Settings, *, root: Path | None,
              agents: Sequence[str] | None = None, options: ReviewOptions | None = None,
              router: Router | None = None) -> ReviewPlan:
    from consilium_cli.council.roles import ROLES

    options = options or review_options(settings, engine)
    config = plan_config(settings, engine, options, agents or ROLES)
    max_bytes = settings.review.max_file_kb * 1000 * 4

    def worktree(path: str) -> list[str] | None:
        return None if root is None else read_worktree_lines(root, path, max_bytes)

    return build_plan(diff, count=engine.count_tokens, config=config, router=router,
                      worktree=worktree, agents=agents)


def review_diff(diff: Diff, engine: Engine, settings: Settings, *, root: Path | None,
                agents: Sequence[str] | None = None, cancel: CancelToken | None = None,
                on_event: Callable[[ReviewEvent], None] | None = None,
                summarize: Summarizer | None = None, use_summary: bool = True,
                ) -> ReviewResult:
    """Plan, run every agent on every group, merge, and summarise (the local model unless
    another summarizer, e.g. the remote Director, is given; none with director.mode off)."""
    options = review_options(settings, engine)
    plan = make_plan(diff, engine, settings, root=root, agents=agents, options=options)
    if summarize is None and use_summary and settings.director.mode != "off":
        summarize = local_summarizer(engine, seed=options.seed)
    return run_review(engine, plan, options=options, summarize=summarize, cancel=cancel,
                      on_event=on_event)


def model_label(engine: Any) -> str:
    info = engine.info
    return f"{info.name or Path(info.path).name} ({Path(info.path).name}, n_ctx {info.n_ctx})"
