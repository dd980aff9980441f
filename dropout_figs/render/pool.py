"""Drawing many figures into the cache on all cores, with workers that die with their parent."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

from .._procs import stop_pool, watch_parent
from .._validate import check_count
from .cache import CacheEntry, check_cache_dir, ensure_rendered_group, lookup
from .request import Request

__all__ = ["default_jobs", "render_many"]


def default_jobs() -> int:
    """``DROPOUT_FIGS_JOBS``, or the usable cores (at most 8)."""
    env = os.environ.get("DROPOUT_FIGS_JOBS")
    if env:
        return check_count(env, "DROPOUT_FIGS_JOBS", low=1, high=256)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def render_many(
    requests: Iterable[Request],
    cache_dir: str | os.PathLike,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int, Request], None] | None = None,
) -> dict[Request, CacheEntry]:
    """Ensure every request is in the cache, drawing the missing ones in parallel.

    The slowest figures (by ``FigureSpec.cost``) start first so both cores stay
    busy to the end. ``progress(done, total, request)`` is called after each.
    On an exception (or Ctrl-C, or SIGTERM turned into one) the workers are
    killed at once; a worker also ends by itself if this process dies.
    """
    requests = list(dict.fromkeys(requests))
    jobs = default_jobs() if jobs is None else check_count(jobs, "jobs", low=1, high=256)
    cache_dir = check_cache_dir(cache_dir)
    entries: dict[Request, CacheEntry] = {}
    groups: dict[Request, list[Request]] = {}
    for r in requests:
        hit = lookup(r, cache_dir)
        if hit is None:
            groups.setdefault(r.base(), []).append(r)
        else:
            entries[r] = hit
    total, done = len(requests), len(entries)
    if progress and done:
        progress(done, total, None)
    # Slowest first, so both cores stay busy to the end; ties in a fixed order.
    todo = sorted(groups.values(), key=lambda g: (-g[0].spec.cost, g[0].name, g[0].key()))
    if jobs <= 1 or len(todo) <= 1:
        for group in todo:
            for r, e in zip(group, ensure_rendered_group(group, cache_dir), strict=True):
                entries[r] = e
                done += 1
                if progress:
                    progress(done, total, r)
        return {r: entries[r] for r in requests}
    import multiprocessing

    # One BLAS thread per worker: the parallelism is across figures.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(todo)),
        mp_context=ctx,
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures = {pool.submit(ensure_rendered_group, g, cache_dir): g for g in todo}
        for fut in as_completed(futures):
            for r, e in zip(futures[fut], fut.result(), strict=True):
                entries[r] = e
                done += 1
                if progress:
                    progress(done, total, r)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    return {r: entries[r] for r in requests}
