"""N calls at a target rate or concurrency, over one connection pool, cancellable.

:func:`run_load` is a coroutine; :class:`BackgroundJob` runs any such coroutine in a thread with
its own event loop, so that a notebook does not need its kernel's asyncio loop to keep running
between cells (in Colab it does not).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from .._secret import SecretKey
from ._classify import CallClass, CallResult
from ._http import DEFAULT_REAL_API_CAP, AsyncOpenRouterClient, check_real_api

__all__ = ["LoadRun", "run_load", "BackgroundJob", "DEFAULT_MAX_TOKENS"]

#: Test calls ask for little output, so paid calls cost little and pass the affordability check.
DEFAULT_MAX_TOKENS = 16
_POLL_S = 0.05
#: Connections a paced run (rate without concurrency) may open.
DEFAULT_RATE_POOL = 100

T = TypeVar("T")


@dataclass
class LoadRun:
    """The record of one run.

    Attributes
    ----------
    results:
        One :class:`CallResult` per finished call, in the order they finished.
    requested:
        Calls asked for.
    offered_rate:
        Target sending rate (calls per second), or ``None`` for "as fast as the concurrency allows".
    concurrency:
        Most calls in flight at once.
    started_at:
        Unix seconds at the start.
    duration_s:
        Seconds from the first send to the last answer.
    cancelled:
        Whether the run was stopped before all calls finished.
    """

    requested: int
    offered_rate: float | None
    concurrency: int
    started_at: float = 0.0
    duration_s: float = 0.0
    cancelled: bool = False
    results: list[CallResult] = field(default_factory=list)
    sent: int = 0

    @property
    def finished(self) -> int:
        return len(self.results)

    @property
    def counts(self) -> dict[CallClass, int]:
        """Calls per class, in :class:`CallClass` order."""
        tally = Counter(r.call_class for r in self.results)
        return {c: tally[c] for c in CallClass if tally[c]}

    @property
    def achieved_rate(self) -> float:
        """Finished calls per second over the run."""
        return self.finished / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def send_rate(self) -> float:
        """Calls sent per second, first send to last send."""
        times = sorted(r.sent_at for r in self.results)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def latencies(self) -> list[float]:
        return [r.latency_s for r in self.results]


def _check_count(count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count: expected a whole number >= 0, got {count!r}")
    return count


def _check_rate(rate: Any) -> float | None:
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) \
            or rate <= 0:
        raise ValueError(f"rate: expected calls per second > 0, got {rate!r}")
    return float(rate)


def _check_concurrency(concurrency: Any) -> int | None:
    if concurrency is None:
        return None
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency: expected a whole number >= 1, got {concurrency!r}")
    return concurrency


async def run_load(
    target: str | AsyncOpenRouterClient,
    model: str,
    count: int,
    *,
    rate: float | None = None,
    concurrency: int | None = None,
    api_key: SecretKey | str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
    messages: Sequence[Mapping[str, Any]] | None = None,
    cancel: threading.Event | None = None,
    on_result: Callable[[CallResult], Any] | None = None,
    confirm_real_api: bool = False,
    real_api_cap: int = DEFAULT_REAL_API_CAP,
    run: LoadRun | None = None,
    monotonic: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
    fast_loopback: bool = True,
) -> LoadRun:
    """Send ``count`` chat calls and record every answer.

    Parameters
    ----------
    target:
        An API base URL (a new pool is made and closed) or an :class:`AsyncOpenRouterClient`
        (its pool is used and left open).
    model, count:
        What to call, how many times.
    rate:
        Target sending rate, calls per second (sends are scheduled at ``i / rate``; a late
        scheduler catches up at once). ``None``: as fast as ``concurrency`` allows.
    concurrency:
        Most calls in flight. Default: 10 without a rate; with a rate, no limit other than the
        connection pool (:data:`DEFAULT_RATE_POOL` connections).
    cancel:
        Set it (from any thread) to stop: no new calls go out, calls in flight are abandoned.
    on_result:
        Called in the event loop's thread with each :class:`CallResult` as it finishes.
    confirm_real_api, real_api_cap:
        The real-API guard (:func:`check_real_api`): a non-loopback target needs the confirmation,
        and at most ``real_api_cap`` calls.
    run:
        A :class:`LoadRun` to fill in (lets another thread watch ``results`` grow).
    monotonic, sleep:
        The pacing clock and its sleep (the event loop's by default; tests inject fakes).
    fast_loopback:
        Passed to :class:`AsyncOpenRouterClient` when ``target`` is a URL.

    Returns
    -------
    LoadRun
    """
    count = _check_count(count)
    rate = _check_rate(rate)
    concurrency = _check_concurrency(concurrency)
    if rate is None and concurrency is None:
        concurrency = 10
    base_url = target.base_url if isinstance(target, AsyncOpenRouterClient) else target
    check_real_api(base_url, confirmed=confirm_real_api, count=count, cap=real_api_cap)
    # Without a concurrency, calls beyond the pool wait for a connection: a few hundred open
    # connections cost httpx more than they give.
    pool = concurrency if concurrency is not None else DEFAULT_RATE_POOL
    own = not isinstance(target, AsyncOpenRouterClient)
    client = (
        AsyncOpenRouterClient(target, api_key, timeout, transport=transport, max_connections=pool,
                              fast_loopback=fast_loopback)
        if own
        else target
    )
    if run is None:
        run = LoadRun(requested=count, offered_rate=rate, concurrency=pool)
    run.started_at = time.time()
    start = time.perf_counter()
    cancel = cancel or threading.Event()

    async def one() -> None:
        result = await client.chat(model, messages=messages, max_tokens=max_tokens)
        run.results.append(result)
        if on_result is not None:
            on_result(result)

    try:
        if rate is None:
            await _by_concurrency(one, count, concurrency or 10, cancel, run)
        else:
            await _by_rate(one, count, rate, concurrency, cancel, run, monotonic, sleep)
    finally:
        run.duration_s = time.perf_counter() - start
        run.cancelled = cancel.is_set() and run.finished < count
        if own:
            await client.aclose()
    return run


async def _wait_all(tasks: set[asyncio.Task[None]], cancel: threading.Event) -> None:
    """Wait for the tasks, abandoning them if ``cancel`` is set; re-raise a task's bug."""
    while tasks:
        done, _ = await asyncio.wait(tasks, timeout=_POLL_S)
        for task in done:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        if cancel.is_set():
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            tasks.clear()


async def _by_concurrency(
    one: Callable[[], Awaitable[None]], count: int, workers: int, cancel: threading.Event,
    run: LoadRun,
) -> None:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            if cancel.is_set():
                return
            run.sent += 1
            await one()

    tasks = {asyncio.ensure_future(worker()) for _ in range(min(workers, count))}
    await _wait_all(tasks, cancel)


async def _by_rate(
    one: Callable[[], Awaitable[None]], count: int, rate: float, concurrency: int | None,
    cancel: threading.Event, run: LoadRun,
    monotonic: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> None:
    now = monotonic or asyncio.get_running_loop().time
    pause = sleep or asyncio.sleep
    semaphore = asyncio.Semaphore(concurrency) if concurrency else None
    tasks: set[asyncio.Task[None]] = set()
    t0 = now()

    async def guarded() -> None:
        try:
            await one()
        finally:
            if semaphore is not None:
                semaphore.release()

    for i in range(count):
        if cancel.is_set():
            break
        delay = t0 + i / rate - now()
        if delay > 0:
            # Sleep in slices so that Stop works at low rates too.
            while delay > 0 and not cancel.is_set():
                await pause(min(delay, _POLL_S))
                delay = t0 + i / rate - now()
            if cancel.is_set():
                break
        if semaphore is not None:
            await semaphore.acquire()
        run.sent += 1
        task = asyncio.ensure_future(guarded())
        tasks.add(task)
        if len(tasks) > 256:
            for finished in [t for t in tasks if t.done()]:
                tasks.discard(finished)
                if not finished.cancelled() and finished.exception() is not None:
                    raise finished.exception()  # type: ignore[misc]
    await _wait_all(tasks, cancel)


class BackgroundJob(Generic[T]):
    """Run a coroutine in a daemon thread with its own event loop.

    Parameters
    ----------
    factory:
        Called in the thread with the job's cancel event; returns the coroutine to run.
    on_done:
        Called in the thread when the coroutine ends, with the job (look at ``result`` and
        ``error``). Exceptions it raises are kept in ``callback_error``, never lost.
    """

    def __init__(
        self,
        factory: Callable[[threading.Event], Awaitable[T]],
        on_done: Callable[[BackgroundJob[T]], Any] | None = None,
        name: str = "orwidgets-job",
    ) -> None:
        self._factory = factory
        self._on_done = on_done
        self.cancel_event = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.callback_error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._finished = threading.Event()

    def start(self) -> BackgroundJob[T]:
        self._thread.start()
        return self

    def _main(self) -> None:
        try:
            self.result = asyncio.run(self._factory(self.cancel_event))
        except BaseException as exc:  # kept for the caller to show; the thread must not die loud
            self.error = exc
        finally:
            try:
                if self._on_done is not None:
                    self._on_done(self)
            except BaseException as exc:
                self.callback_error = exc
            finally:
                self._finished.set()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._finished.is_set()

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (``on_done`` included); False on timeout."""
        return self._finished.wait(timeout)
