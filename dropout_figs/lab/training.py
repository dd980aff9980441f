"""Train one network, compare without and with dropout, train many at once."""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

from .._validate import DropoutFigsError, as_rng, check_count
from . import mlp
from .config import TrainConfig, TrainResult, check_cost
from .data import Dataset
from .engine import _STACK_ELEMENTS, _THREAD_ELEMENTS, _Stack

__all__ = ["compare", "train", "train_many"]

# Worker processes pay only for a job of at least this much work, in units of
# models x epochs x parameters x (3 x training + evaluation examples): starting
# a worker from the fork server costs a fraction of a second.
_PROCESS_WORK = 1e9


# =========================================================================== public API
def _check_data(data) -> Dataset:
    if not isinstance(data, Dataset):
        raise DropoutFigsError(
            f"data must be a dropout_figs.lab.Dataset (see make_dataset); got {type(data).__name__}"
        )
    return data


def _check_config(config) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise DropoutFigsError(f"config must be a TrainConfig; got {type(config).__name__}")
    return config


def _check_init(params, sizes):
    expected = list(itertools.pairwise(sizes))
    ok = isinstance(params, (list, tuple)) and len(params) == len(expected)
    if ok:
        for (W, b), (i, o) in zip(params, expected, strict=True):
            if np.shape(W) != (i, o) or np.shape(b) != (o,):
                ok = False
    if not ok:
        got = [(np.shape(W), np.shape(b)) for W, b in params] if params is not None else None
        raise DropoutFigsError(
            f"init_params must be (W, b) pairs of shapes {[((i, o), (o,)) for i, o in expected]}; "
            f"got {got}"
        )
    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]


def _streams(rng):
    """Three independent streams: initial weights, batch order, masks."""
    return as_rng(rng).spawn(3)


def _copy_params(params):
    return [(W.copy(), b.copy()) for W, b in params]


def train(
    config: TrainConfig,
    data: Dataset,
    *,
    rng,
    init_params=None,
    snapshot_epochs: Iterable[int] = (),
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train one network with mini-batch gradient descent and (optionally) dropout.

    Parameters
    ----------
    config : TrainConfig
    data : Dataset
        From :func:`dropout_figs.lab.make_dataset`.
    rng : numpy.random.Generator
        Three streams are spawned from it: initial weights, batch order, masks.
    init_params : list of (W, b), optional
        Start from these weights instead of a He initialisation.
    snapshot_epochs : iterable of int
        Epochs after which to keep a copy of the weights (0 = the initial ones).
    progress : callable, optional
        Called as ``progress(epoch, n_epochs)`` after every epoch (for a progress bar).

    Returns
    -------
    TrainResult
        If a loss stops being finite (the run diverged: the learning rate is too
        high), training stops after that epoch and ``result.diverged_epoch`` says which.

    Raises
    ------
    DropoutFigsError
        Before any work, if the run would take more than about a minute or
        2 GiB (:func:`~dropout_figs.lab.config.check_cost`).
    """
    config = _check_config(config)
    data = _check_data(data)
    epochs = _check_snapshots(snapshot_epochs, config.epochs)
    check_cost(config, data)  # before any work, the initial weights included
    init_rng, order_rng, mask_rng = _streams(rng)
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    if init_params is None:
        init_params = mlp.init_params(sizes, rng=init_rng)
    else:
        init_params = _check_init(init_params, sizes)
    stack = _Stack([config], [data], [init_params], [order_rng], [mask_rng])
    (result,) = stack.run(epochs, progress, stop_on_divergence=True)
    result.init_params = _copy_params(init_params)
    return result


def _check_snapshots(snapshot_epochs, n_epochs):
    out = []
    for e in snapshot_epochs:
        out.append(check_count(e, "snapshot_epochs entry", low=0, high=n_epochs))
    return tuple(sorted(set(out)))


def compare(
    config: TrainConfig,
    data: Dataset,
    *,
    rng,
    snapshot_epochs: Iterable[int] = (),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, TrainResult]:
    """Train the same network without and with dropout, everything else equal.

    Both runs start from the same initial weights and see the same mini-batches
    in the same order; only the dropout masks differ. The cost cap and the stop
    on divergence are as in :func:`train` (both stop when either diverges). "without_dropout" uses
    ``keep_prob = input_keep_prob = 1``; "with_dropout" uses ``config``. The two
    networks train together in one stack (about the cost of one run), and each
    equals ``train(its_config, data, rng=rng)`` for a generator in the same state.
    ``snapshot_epochs`` and ``progress`` are as in :func:`train`.

    Returns
    -------
    dict
        ``{"without_dropout": TrainResult, "with_dropout": TrainResult}``.
    """
    config = _check_config(config)
    data = _check_data(data)
    if not config.uses_dropout:
        raise DropoutFigsError(
            "compare needs dropout in config: keep_prob or input_keep_prob below 1 "
            f"(got keep_prob={config.keep_prob:g}, input_keep_prob={config.input_keep_prob:g})"
        )
    epochs = _check_snapshots(snapshot_epochs, config.epochs)
    check_cost(config, data, n_models=2)
    init_rng, order_rng, mask_rng = _streams(rng)
    without = config.replace(keep_prob=1.0, input_keep_prob=1.0)
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    init = mlp.init_params(sizes, rng=init_rng)
    # The same batch order: each run gets an identical copy of the order stream.
    stack = _Stack(
        [without, config],
        [data, data],
        [init, init],
        [copy.deepcopy(order_rng), order_rng],
        [copy.deepcopy(mask_rng), mask_rng],
    )
    res_without, res_with = stack.run(epochs, progress, stop_on_divergence=True)
    for r in (res_without, res_with):
        r.init_params = _copy_params(init)
        r.seconds *= 2  # both ran in one stack; each took its full share of the time
        r.cpu_seconds *= 2
    return {"without_dropout": res_without, "with_dropout": res_with}


def _check_seed(seed):
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return check_count(seed, "seeds entry", low=0, high=2**63 - 1)


def _fresh(seed):
    """A SeedSequence that has spawned no children yet: spawning is stateful, and
    every model given this seed must get the same streams."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size
        )
    return seed


def _group_key(config, data):
    return (
        config.layer_sizes(data.x_train.shape[1], data.n_classes),
        config.epochs,
        min(config.batch_size, len(data.y_train)),
        config.optimizer,
        len(data.y_train),
        len(data.y_val),
        data.n_test,
    )


def _group_work(entries):
    """Rough single-core cost of training ``entries`` (see _PROCESS_WORK)."""
    config, data = entries[0][1], entries[0][2]
    sizes = config.layer_sizes(data.x_train.shape[1], data.n_classes)
    n_params = sum((i + 1) * o for i, o in itertools.pairwise(sizes))
    n_train, n_val = len(data.y_train), len(data.y_val)
    return len(entries) * config.epochs * n_params * (4 * n_train + n_val)


def _run_chunk(chunk):
    """Train one stack; ``chunk`` holds (slot, config, data, init, order rng, mask rng)."""
    stack = _Stack(
        [e[1] for e in chunk],
        [e[2] for e in chunk],
        [e[3] for e in chunk],
        [e[4] for e in chunk],
        [e[5] for e in chunk],
    )
    return stack.run()


def _run_chunks(chunks):
    return [_run_chunk(c) for c in chunks]


def _process_context():
    """Fork server where there is one (cheap workers, forked from a clean process)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Preload this module, not the caller's __main__: a script without an
    # ``if __name__ == "__main__"`` guard would otherwise run again in the server.
    # (No effect if the fork server is already running.)
    ctx.set_forkserver_preload(["dropout_figs.lab"])
    return ctx


def _run_in_processes(chunks, jobs):
    """Deal the stacks (longest first) into ``jobs`` equal shares; train share 0
    here and the others in ``jobs - 1`` worker processes at the same time."""
    shares = [[] for _ in range(jobs)]
    load = [0] * jobs
    for i, chunk in enumerate(chunks):
        j = load.index(min(load))
        shares[j].append(i)
        load[j] += _group_work(chunk)
    outs = [None] * len(chunks)
    from .._procs import stop_pool, watch_parent

    # Workers end with this process (killed, or an exception here), never later.
    pool = ProcessPoolExecutor(
        max_workers=jobs - 1,
        mp_context=_process_context(),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures = [
            (share, pool.submit(_run_chunks, [chunks[i] for i in share]))
            for share in shares[1:]
            if share
        ]
        for i in shares[0]:
            outs[i] = _run_chunk(chunks[i])
        for share, future in futures:
            for i, out in zip(share, future.result(), strict=True):
                outs[i] = out
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    return outs


def train_many(
    configs: Sequence[TrainConfig],
    data: Dataset | Sequence[Dataset],
    *,
    seeds: Sequence[int | np.random.SeedSequence],
    jobs: int | None = None,
    paired: bool = False,
    processes: bool = False,
) -> list[TrainResult]:
    """Train every config with every seed (or config i with seed i), many models at once.

    Models that share layer sizes, epochs, batch size, optimizer and data set
    sizes are stacked and trained in lock-step with batched matrix products
    (other groups get stacks of their own); big stacks are split over ``jobs``
    threads (NumPy releases the GIL inside its loops).

    Results are *equal* to separate runs, not merely statistically
    equivalent: every model keeps its own random streams, so the result for
    ``(configs[i], seeds[j])`` is that of
    ``train(configs[i], data_i, rng=np.random.default_rng(seeds[j]))`` to
    floating-point rounding (bit for bit in the tests, which check it).

    Parameters
    ----------
    configs : sequence of TrainConfig
    data : Dataset or sequence of Dataset
        One data set for all, or one per config (e.g. a data-set-size sweep).
    seeds : sequence of int or numpy.random.SeedSequence
        Every config is trained once per seed. A SeedSequence stands for
        ``np.random.default_rng(seed)`` made afresh for every model (e.g.
        ``np.random.SeedSequence(S).spawn(2)[1]``, the training stream of
        ``dropout-figs train --seed S``). The same seed gives the same
        initial weights and batch order for configs of the same shape, so
        configs are compared on common random numbers.
    jobs : int, optional
        Cores to use. Default: 2 (the machines this is tuned for have 2 cores),
        but 1 inside a worker process (the parallel figure build already keeps
        every core busy, and extra workers only contend). Threads by default:
        a stack is split over threads only if each part keeps big arrays;
        threads help while NumPy works on large arrays with the GIL released,
        and hurt when many small calls make them queue for it. The numbers do
        not depend on ``jobs``.
    paired : bool, default False
        If True, ``seeds`` has one seed per config and config i is trained
        with seed i only (e.g. 5 seeds x 2 variants listed explicitly).
    processes : bool, default False
        Use ``jobs`` processes instead of threads for a big job (about half a
        second of work or more; smaller ones stay in threads): the stacks are
        dealt into ``jobs`` equal shares, one trained here and the others in
        worker processes from a fork server (threads queue for the GIL at
        these sizes; processes do not). As with any use of
        :mod:`multiprocessing`, the calling script must guard its top level
        with ``if __name__ == "__main__":`` (the workers import it).

    Returns
    -------
    list of TrainResult
        Config-major: ``results[i * len(seeds) + j]`` is config i with seed j;
        with ``paired=True``, ``results[i]`` is config i with seed i.

    Examples
    --------
    >>> from dropout_figs.lab import make_dataset
    >>> data = make_dataset("moons", n_samples=100, rng=np.random.default_rng(0))
    >>> configs = [TrainConfig(width=16, keep_prob=q, epochs=5) for q in (1.0, 0.5)]
    >>> [r.config.keep_prob for r in train_many(configs, data, seeds=[0, 1])]
    [1.0, 1.0, 0.5, 0.5]
    """
    configs = [_check_config(c) for c in configs]
    if isinstance(data, Dataset):
        datasets = [data] * len(configs)
    else:
        datasets = [_check_data(d) for d in data]
        if len(datasets) != len(configs):
            raise DropoutFigsError(
                f"data must be one Dataset or one per config ({len(configs)}); got {len(datasets)}"
            )
    seeds = [_check_seed(s) for s in seeds]
    if not configs or not seeds:
        raise DropoutFigsError(
            f"train_many needs at least one config and one seed; got {len(configs)} configs "
            f"and {len(seeds)} seeds"
        )
    if paired and len(seeds) != len(configs):
        raise DropoutFigsError(
            f"with paired=True, seeds must have one seed per config ({len(configs)}); "
            f"got {len(seeds)}"
        )
    if jobs is None:
        jobs = 2 if multiprocessing.parent_process() is None else 1
    jobs = check_count(jobs, "jobs", low=1, high=64)

    # One entry per model: (slot, config, data, init, order rng, mask rng)
    groups: dict[tuple, list] = {}
    for i, (config, d) in enumerate(zip(configs, datasets, strict=True)):
        sizes = config.layer_sizes(d.x_train.shape[1], d.n_classes)
        for j, seed in enumerate(seeds):
            if paired and j != i:
                continue
            init_rng, order_rng, mask_rng = _streams(_fresh(seed))
            init = mlp.init_params(sizes, rng=init_rng)
            slot = i if paired else i * len(seeds) + j
            entry = (slot, config, d, init, order_rng, mask_rng)
            groups.setdefault(_group_key(config, d), []).append(entry)

    # Stacks amortise Python's per-call overhead and keep each thread inside
    # NumPy's loops (where it has released the GIL) most of the time; but past
    # about 1 MB per flat buffer the optimiser's passes and the activations
    # fall out of cache, and a stack gets slower per model than a lone one.
    # So: at most _STACK_ELEMENTS parameters per stack, at least one per thread.
    # A big job goes to processes instead: at these sizes two threads queue for
    # the GIL, two processes do not.
    work = sum(_group_work(entries) for entries in groups.values())
    processes = processes and jobs > 1 and work >= _PROCESS_WORK
    chunks, big_chunks = [], 0
    for entries in groups.values():
        sizes = entries[0][1].layer_sizes(entries[0][2].x_train.shape[1], entries[0][2].n_classes)
        n_params = sum((i + 1) * o for i, o in itertools.pairwise(sizes))
        per_stack = max(1, _STACK_ELEMENTS // n_params)
        # activations per model and step: batch x width
        batch = min(entries[0][1].batch_size, len(entries[0][2].y_train))
        per_model = batch * max(sizes[1:-1], default=sizes[-1])
        k = -(-len(entries) // per_stack)
        if processes and _group_work(entries) * 2 * jobs > work:
            # a big group: a multiple of jobs stacks, so the workers get equal shares
            k = min(len(entries), jobs * -(-k // jobs))
        else:
            k = max(k, min(jobs, max(1, len(entries) * per_model // _THREAD_ELEMENTS)))
        for part in np.array_split(np.arange(len(entries)), k):
            if len(part):
                chunks.append([entries[p] for p in part])
                big_chunks += len(part) * per_model >= _THREAD_ELEMENTS // 2
    # longest first, so the workers finish together
    chunks.sort(key=lambda c: -_group_work(c))

    results: list[TrainResult | None] = [None] * (
        len(configs) if paired else len(configs) * len(seeds)
    )
    if processes and len(chunks) > 1:
        outs = _run_in_processes(chunks, jobs)
    elif jobs == 1 or big_chunks < 2:  # small stacks only queue for the GIL in threads
        outs = [_run_chunk(c) for c in chunks]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outs = list(pool.map(_run_chunk, chunks))
    for chunk, out in zip(chunks, outs, strict=True):
        for entry, res in zip(chunk, out, strict=True):
            res.init_params = _copy_params(entry[3])
            results[entry[0]] = res
    return results
