"""Building many threads at once, in forked worker processes.

A cold build of a large site spends most of engage's time on work that is
independent per post: reading and re-checking its archive file, threading
its items, writing the thread to the build cache, and rendering its HTML
(the plugin's ``after``).  Pelican itself runs on one core, so on a machine
with more, :func:`build_all` forks workers (``ENGAGE_WORKERS``) that do this
work for the posts to build, each writing its results to the build cache as
a sequential build would, and hands the parent what it needs of each: the
summary, the token of its cache files, and the build's counters.

Forking shares the parent's state (settings, the Jinja environment, the
articles) without pickling it; only Linux forks (macOS's system libraries
are not fork-safe).  A fork copies only the calling thread: a lock another
thread held stays held in the child.  Pelican's other thread is its console
(rich's live refresh), so a worker never writes to it: its log records are
sent back with its results and logged by the parent.  Anything a worker
could not do (it raised, died, or could not start) is done again in the
parent, so a problem is told there, as in a sequential build, and nothing
is lost; a worker whose parent is killed ends with it.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .cache import _RECENT, LazyEngagement, Summary
from .conversation import Engagement

if TYPE_CHECKING:
    from .engine import After, Engine, Plan

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Posts to build below which forking costs more than it saves (a worker
#: starts in ~10 ms; a post takes ~2-6 ms).
MIN_POSTS = 64
#: Posts a worker takes at a time: few enough to keep the workers evenly
#: busy to the end, enough to make the parent's bookkeeping negligible.
CHUNK = 8
#: Workers when ENGAGE_WORKERS is not set, at most.
MAX_AUTO = 4
#: Seconds a worker may go without a word before it is taken for stuck
#: (a lock inherited at the fork, held forever): it is stopped, and the
#: parent does its work.  A post takes milliseconds; the author's page of a
#: very large site, a minute.
SILENCE_SECONDS = 600.0


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_for(setting: int | None) -> int:
    """Worker processes to use: ``ENGAGE_WORKERS``, or when unset the CPUs
    available (at most :data:`MAX_AUTO`); 1 where forking is not safe."""
    if not can_fork():
        return 1
    return setting if setting is not None else min(available_cpus(), MAX_AUTO)


def can_fork() -> bool:
    """Linux only, and not from a thread other than the main one."""
    main = threading.current_thread() is threading.main_thread()
    return sys.platform.startswith("linux") and main


class _Collect(logging.Handler):
    """A worker's only log handler: records kept to be sent to the parent."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Made plain for pickling: the message formatted, no traceback object.
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


_COLLECT = _Collect()


class _Discard(io.TextIOBase):
    """A worker's standard streams: what is written goes nowhere."""

    def write(self, text: str) -> int:
        return len(text)


#: The process that forked the workers (checked by each, see start_worker).
_PARENT = 0


def _die_with_parent() -> None:
    """Linux's PR_SET_PDEATHSIG: the kernel ends this worker when the parent
    dies (killed, out of memory): it would otherwise wait forever on a full
    pipe to nobody.  A parent already gone by now: end at once."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _PARENT:
        os._exit(1)


def start_worker() -> None:
    """In a new worker: every log handler replaced by :data:`_COLLECT`, and
    the standard streams by :class:`_Discard` (the console's thread may have
    held their locks when the worker was forked; multiprocessing flushes
    them as the worker ends)."""
    for logger_ in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger_, logging.Logger):
            for handler in list(logger_.handlers):
                logger_.removeHandler(handler)
    logging.getLogger().addHandler(_COLLECT)
    sys.stdout = sys.stderr = _Discard()
    _die_with_parent()


@dataclass(frozen=True)
class Built:
    """What the parent needs of a thread a worker built."""

    summary: Summary
    #: The token of its files in the build cache ("" when none was written).
    token: str
    #: The engagement itself, when the cache could not be written.
    kept: Engagement | None
    prepared: bool
    #: What was logged while it was built (logged by the parent).
    logs: tuple[logging.LogRecord, ...]
    #: Counters of the work done: comment files parsed, archive files read,
    #: cached threads read, damaged ones found.
    counters: tuple[int, int, int, int]
    #: The rendered files it wrote: (name, size, mtime ns), see filestamps.Stamps.
    stamps: tuple[tuple[str, int, int], ...] = ()


class _Job:
    """The plans of one :func:`build_all`, handed out a chunk at a time to
    whichever process (the parent or a worker) asks next."""

    def __init__(self, engine: Engine, plans: Sequence[Plan], after: After | None) -> None:
        self.engine, self.plans, self.after = engine, plans, after
        self.context = fork_context()
        self._next = self.context.Value("l", 0)  # shared by the forked workers

    def take(self) -> range:
        """The next chunk of plan indexes (empty: none is left)."""
        with self._next.get_lock():
            start = self._next.value
            self._next.value = min(start + CHUNK, len(self.plans))
        return range(start, min(start + CHUNK, len(self.plans)))


#: The job being run, inherited by its forked workers.
_JOB: _Job | None = None


def counters(engine: Engine) -> tuple[int, int, int, int]:
    return (
        engine.local.parsed_files,
        engine.archive_reads,
        engine.threads.loads,
        engine.threads.damaged,
    )


def done_since(engine: Engine, before: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The work counted (see :func:`counters`) since ``before``."""
    now = counters(engine)
    return (now[0] - before[0], now[1] - before[1], now[2] - before[2], now[3] - before[3])


def build_one(engine: Engine, plan: Plan, after: After | None) -> Built:
    """In a worker: build ``plan`` (and run ``after``), for the parent."""
    before, prepared = counters(engine), engine.prepared
    recorded = len(engine.threads.stamps.recorded)
    _COLLECT.records.clear()
    result = engine.build(plan, after)
    # Nothing is read again here: the parent reads it from the cache.
    _RECENT.clear()
    return Built(
        result.summary,
        engine.threads.token(plan.post.key),
        result.held,
        engine.prepared > prepared,
        tuple(_COLLECT.records),
        done_since(engine, before),
        tuple(engine.threads.stamps.recorded[recorded:]),
    )


def fork_context() -> Any:
    import multiprocessing

    return multiprocessing.get_context("fork")


def start(context: Any, target: Callable[..., None], args: tuple[Any, ...]) -> Any:
    """A started worker process running ``target(*args)``; None when none
    can be started.  The parent's objects are frozen while it forks, so the
    collector does not touch (and so copy) every page of them in the child."""
    global _PARENT
    _PARENT = os.getpid()
    gc.freeze()
    try:
        process = context.Process(target=target, args=args, daemon=True)
        process.start()
        return process
    # OSError: no more processes; the others: a Python that refuses to fork here.
    except (OSError, RuntimeError, ValueError) as exc:
        logger.debug("engage: cannot start a worker process (%s)", exc)
        return None
    finally:
        gc.unfreeze()


def _work(send: Any) -> None:
    """A worker: chunks taken and built until none is left, each result sent
    as it is made; a failure ends the worker (the parent builds the rest)."""
    start_worker()
    assert _JOB is not None
    try:
        while chunk := _JOB.take():
            for index in chunk:
                send.send((index, build_one(_JOB.engine, _JOB.plans[index], _JOB.after)))
    except BaseException as exc:  # told by the parent, which builds the rest
        logger.debug("engage: a worker process stopped: %r", exc)
    finally:
        send.close()


def build_all(
    engine: Engine, plans: Sequence[Plan], after: After | None, workers: int
) -> dict[int, LazyEngagement]:
    """Build ``plans`` with up to ``workers`` processes, this one included:
    ``id(plan)`` -> its engagement.  Returns what it built; too few plans,
    one worker, or a process where forking is unsafe: nothing (the caller
    builds them itself, as it does any plan a worker failed to build)."""
    global _JOB
    if workers < 2 or len(plans) < MIN_POSTS or not engine.threads.persist or not can_fork():
        return {}
    from multiprocessing.connection import wait

    job = _JOB = _Job(engine, plans, after)  # the workers' (inherited)
    receivers: list[Any] = []
    processes: list[Any] = []
    try:
        for _ in range(min(workers, -(-len(plans) // CHUNK)) - 1):
            receive, send = job.context.Pipe(duplex=False)
            process = start(job.context, _work, (send,))
            send.close()
            if process is None:  # no more processes: fewer workers
                receive.close()
                break
            receivers.append(receive)
            processes.append(process)
    finally:
        _JOB = None
    done: dict[int, LazyEngagement] = {}
    built: dict[int, Built] = {}

    def collect(timeout: float) -> None:
        ready: list[Any] = wait(receivers, timeout)
        if not ready and timeout:  # stuck: stopped below, their posts built here
            logger.debug("engage: workers silent for %.0f s; stopped", timeout)
            for receive in list(receivers):
                receivers.remove(receive)
                receive.close()
            for process in processes:
                process.terminate()
        for receive in ready:
            try:
                while True:  # all it sent: a full pipe would stop the worker
                    index, result = receive.recv()
                    built[index] = result
                    if not receive.poll():
                        break
            except (EOFError, OSError):  # that worker is done
                receivers.remove(receive)
                receive.close()

    # This process takes chunks too, and collects what the workers sent meanwhile.
    try:
        while chunk := job.take():
            for index in chunk:
                done[id(plans[index])] = engine.build(plans[index], after)
            collect(0)
        while receivers:
            collect(SILENCE_SECONDS)
    finally:  # also when this process's share raised: no worker left behind
        for process in processes:
            if receivers:
                process.terminate()
            process.join()
        for receive in receivers:
            receive.close()
    for index in sorted(built):
        done[id(plans[index])] = adopt(engine, plans[index], built[index])
    return done


def add_counters(engine: Engine, done: tuple[int, int, int, int]) -> None:
    """Count in ``engine`` the work another process did (see :func:`counters`)."""
    engine.local.parsed_files += done[0]
    engine.archive_reads += done[1]
    engine.threads.loads += done[2]
    engine.threads.damaged += done[3]


def adopt(engine: Engine, plan: Plan, built: Built) -> LazyEngagement:
    """The parent's side of a thread a worker built: its cache entry and
    counters, as if it had been built here."""
    from .engine import _Loader

    for record in built.logs:
        logging.getLogger(record.name).handle(record)
    add_counters(engine, built.counters)
    engine.prepared += built.prepared
    engine.threads.adopt(plan.post.key, plan.fingerprint, built.token, built.summary)
    engine.threads.stamps.adopt(built.stamps)
    load = _Loader(engine, plan.post, plan.scan, plan.fingerprint, built.token)
    if built.kept is not None:
        return LazyEngagement(built.summary, load, built.kept, keep=True)
    return LazyEngagement(built.summary, load)


class Background(Generic[T]):
    """``task()`` run in a forked child while the build goes on (Pelican
    writing its pages); :meth:`result` waits for it.  Run in this process
    instead, when :meth:`result` is asked, where forking is not safe, with
    one worker, or when the child failed (its problem is then told here)."""

    def __init__(self, task: Callable[[], T], workers: int) -> None:
        self._task = task
        self._process: Any = None
        if workers < 2 or not can_fork():
            return
        context = fork_context()
        self._receive, send = context.Pipe(duplex=False)
        self._process = start(context, _background, (task, send))
        send.close()
        if self._process is None:
            self._receive.close()

    def cancel(self) -> None:
        """Stop the child, its work unwanted (its build failed)."""
        if self._process is not None:
            process, self._process = self._process, None
            process.terminate()
            process.join()
            self._receive.close()

    def result(self) -> T:
        if self._process is not None:
            process, self._process = self._process, None
            try:
                if not self._receive.poll(SILENCE_SECONDS):  # stuck: done here instead
                    logger.debug("engage: a worker silent for %.0f s; stopped", SILENCE_SECONDS)
                    process.terminate()
                    raise EOFError
                done, value, logs = self._receive.recv()
            except (EOFError, OSError):  # the child died: done here instead
                done, value, logs = False, None, ()
            finally:
                self._receive.close()
                process.join()
            for record in logs:
                logging.getLogger(record.name).handle(record)
            if done:
                return value  # type: ignore[no-any-return]
        return self._task()


def _background(task: Callable[[], Any], send: Any) -> None:
    """In the child: run ``task`` and send back its result and logs."""
    start_worker()
    try:
        send.send((True, task(), tuple(_COLLECT.records)))
    except BaseException as exc:  # told by the parent, which runs it again
        logger.debug("engage: a worker process failed: %r", exc)
        send.send((False, None, tuple(_COLLECT.records)))
    finally:
        send.close()
