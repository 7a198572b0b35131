"""The rule that resolves overlapping spans: a higher priority wins, and a lower one keeps
what is left of it when that still holds secret material."""

from __future__ import annotations

import re
from bisect import bisect_right

from consilium_cli.council.redaction.spans import Span

_ALNUM = re.compile(r"[A-Za-z0-9]")
_ESCAPES = re.compile(r"\\[nrt]")


def resolve(text: str, candidates: list[Span]) -> list[Span]:
    """Non-overlapping spans; a higher priority wins and a lower one keeps what is left."""
    candidates.sort(key=_by_start)
    accepted: list[Span] = []
    cluster: list[Span] = []
    cluster_end = -1
    for span in candidates:
        if span.start >= cluster_end:
            if len(cluster) == 1:
                accepted.append(cluster[0])
            elif cluster:
                accepted.extend(_resolve_small(text, cluster))
            cluster = [span]
            cluster_end = span.end
        else:
            cluster.append(span)
            if span.end > cluster_end:
                cluster_end = span.end
    if cluster:
        accepted.extend(_resolve_small(text, cluster))
    return accepted


def _resolve_small(text: str, cluster: list[Span]) -> list[Span]:
    if len(cluster) == 1:
        return cluster
    if len(cluster) == 2 and cluster[0][:2] == cluster[1][:2]:
        return [max(cluster, key=_by_priority)]  # one value found by two rules
    return _resolve_cluster(text, cluster)


def _by_start(span: Span) -> tuple[int, int]:
    return span.start, -span.end


def _by_priority(span: Span) -> int:
    return span.priority


def _meaningful(piece: str) -> bool:
    """Whether what a stronger span left of a weaker one still holds secret material
    (not only quotes, separators or an escaped newline)."""
    return len(_ALNUM.findall(_ESCAPES.sub("", piece))) >= 2


def _resolve_cluster(text: str, cluster: list[Span]) -> list[Span]:
    """Overlapping spans, by priority: each keeps the parts no stronger span took."""
    starts: list[int] = []
    ends: list[int] = []  # sorted too: taken spans never overlap
    taken: list[Span] = []
    for span in sorted(cluster, key=lambda s: (-s.priority, s.start, s.start - s.end)):
        i = bisect_right(ends, span.start)
        pieces: list[tuple[int, int]] = []
        pos = span.start
        while i < len(taken) and starts[i] < span.end:
            if starts[i] > pos:
                pieces.append((pos, starts[i]))
            pos = max(pos, ends[i])
            i += 1
        if pos < span.end:
            pieces.append((pos, span.end))
        whole = pieces == [(span.start, span.end)]
        if not whole and (span.literal is not None or not span.kind):
            continue
        for start, end in pieces:
            if whole or _meaningful(text[start:end]):
                at = bisect_right(starts, start)
                starts.insert(at, start)
                ends.insert(at, end)
                taken.insert(at, span._replace(start=start, end=end))
    return taken
