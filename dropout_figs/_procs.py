"""Worker processes that never outlive the process that started them.

Both process pools (the figure build and the lab's sweeps) start their workers
with :func:`watch_parent`: a daemon thread in each worker checks every half
second that the parent is still alive and ends the worker if not. The worker's
direct parent is the fork server, so the pid to watch is passed in. On Linux
the worker also asks the kernel (``PR_SET_PDEATHSIG``) to kill it when the fork
server goes. :func:`stop_pool` tears a pool down at once on an exception or a
signal, instead of waiting for the running tasks to finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

__all__ = ["stop_pool", "watch_parent"]

_POLL_SECONDS = 0.5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but another user's: our parent has gone
        return False
    # A zombie has not been reaped yet: it is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _watch(pid: int) -> None:
    while _alive(pid):
        time.sleep(_POLL_SECONDS)
    os._exit(3)


def watch_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker when ``parent_pid`` dies."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed with the fork server
        except (OSError, AttributeError):
            pass
    if not _alive(parent_pid):
        os._exit(3)
    threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="watch-parent").start()


def stop_pool(pool) -> None:
    """Stop a ProcessPoolExecutor now: cancel what has not started, kill what has."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(OSError, ValueError):  # already gone
            proc.kill()
    for proc in procs:
        proc.join(timeout=5)
