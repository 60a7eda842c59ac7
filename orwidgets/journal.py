"""The journal: one entry for every answer the emulator gives, to judge the client afterwards.

An entry says when a request arrived (emulator-clock time), from which key (masked, plus a
non-secret id to tell keys apart), for which model, ``max_tokens`` and ``stream``, and what it got:
the status, a stable class id, and the ``Retry-After`` and ``X-RateLimit-Reset`` it was given.
:mod:`orwidgets.verdict` reads entries and says which of OpenRouter's limits the client ignored.

The same entries travel as **JSON lines** (one object per line, UTF-8), so that an app in any
language can be judged: the emulator writes the file, ``orwidgets verdict FILE`` reads it. The
schema (also in the README, section "The journal")::

    {"time": 1767268800.25, "key": "sk-or-v1-abc...xyz", "key_id": "3f9a0c1b2d4e",
     "account": "acct_free", "path": "/api/v1/chat/completions",
     "model": "meta-llama/llama-3.3-70b-instruct:free", "max_tokens": 200, "stream": false,
     "status": 429, "class": "free_per_minute", "retry_after": null,
     "rate_limit_reset": 1767268860000}

``time``, ``status`` and ``class`` are required; every other field may be missing or ``null``
(``path`` then means chat completions, ``stream`` false). Unknown fields are ignored, so newer
emulators' files stay readable. ``class`` is the engine's :class:`~orwidgets.engine.Reason` value
for the platform's own answers (``ok``, ``free_per_minute``, ``paid_rate``, ...), the fault kind for
an injected provider failure (``upstream_429``, ``http_503``, ``mid_stream_429``, ...), or one of
:data:`OWN_CLASSES` for auth and validation answers.

This module is standard library only (and :mod:`orwidgets._secret`): the emulator writes with it,
while the verdict, the command line and the widgets read with it without loading the server.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import math
import os
import secrets
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, NamedTuple, Union, overload

from ._secret import mask

__all__ = [
    "CHAT_PATH",
    "OWN_CLASSES",
    "DEFAULT_MAXLEN",
    "Entry",
    "Journal",
    "JournalError",
    "entry_from_json",
    "read_journal",
]

#: The route whose entries the verdict judges (an entry without ``path`` means this one).
CHAT_PATH = "/api/v1/chat/completions"

#: Class ids of answers that are neither an engine decision nor an injected fault.
OWN_CLASSES: dict[str, str] = {
    "no_auth": "401: no Authorization: Bearer header",
    "unknown_key": "401: a key the emulator does not know",
    "invalid_request": "400: the body is not valid JSON or a field has the wrong type",
    "unknown_model": "400: not a model of the catalogue",
    "too_large": "413: the body is over the size limit",
    "not_found": "404: no such route",
    "method_not_allowed": "405: the route exists, the method does not",
    "management_only": "403: the route needs a management key",
    "server_error": "500: the emulator failed (a bug of the emulator: please report it)",
}

#: Entries kept in memory; older ones are dropped (and counted in ``dropped``); a file sink keeps
#: everything. [inv] About 50 MB of entries: a long load run cannot exhaust a notebook's memory.
DEFAULT_MAXLEN = 200_000

_KEY_ID_HEX = 12

PathOrFile = Union[str, "os.PathLike[str]", IO[str]]


class Entry(NamedTuple):
    """One answer (immutable). Field names as in Python; :meth:`to_json` gives the wire names.

    A named tuple rather than a frozen dataclass: a journal holds and reads hundreds of thousands
    of them, and a tuple is built several times faster.

    Attributes
    ----------
    time:
        Emulator-clock time the request arrived (Unix seconds).
    status:
        HTTP status of the answer (a stream that failed midway is 200 with class
        ``mid_stream_429``).
    call_class:
        The stable class id (JSON ``class``).
    model, max_tokens, stream:
        What the request asked for; ``max_tokens`` as sent (``None`` when absent).
    key:
        The key, masked (``sk-or-v1-abc...xyz``); ``None`` without a key.
    key_id:
        A short id of the key, the same for the same key within one journal and useless for
        recovering it (an HMAC under a random salt); the verdict judges per ``key_id``.
    account:
        The emulator's account id, when the key belongs to one.
    path:
        The route.
    retry_after:
        The ``Retry-After`` given, seconds; ``None`` when the answer had none.
    rate_limit_reset:
        The ``X-RateLimit-Reset`` given, Unix milliseconds; ``None`` when none.
    """

    time: float
    status: int
    call_class: str
    model: str | None = None
    max_tokens: int | None = None
    stream: bool = False
    key: str | None = None
    key_id: str | None = None
    account: str | None = None
    path: str = CHAT_PATH
    retry_after: float | None = None
    rate_limit_reset: int | None = None

    @property
    def is_chat(self) -> bool:
        return self.path == CHAT_PATH

    @property
    def free(self) -> bool:
        """Whether the request was for a free (``:free``) model."""
        return self.model is not None and self.model.endswith(":free")

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines object (every field present; ``null`` where there is no value)."""
        return {
            "time": round(self.time, 6),
            "key": self.key,
            "key_id": self.key_id,
            "account": self.account,
            "path": self.path,
            "model": self.model,
            "max_tokens": self.max_tokens,
            "stream": self.stream,
            "status": self.status,
            "class": self.call_class,
            "retry_after": self.retry_after,
            "rate_limit_reset": self.rate_limit_reset,
        }


class JournalError(ValueError):
    """A journal that cannot be read; ``line`` is the 1-based line at fault (``None``: the file)."""

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None) -> None:
        where = ", ".join(p for p in (source, None if line is None else f"line {line}") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message
        self.line = line
        self.source = source


def _number(obj: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise ValueError(f"'{name}' is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"'{name}' must be a number, got {value!r}")
    if value < 0:
        raise ValueError(f"'{name}' must be 0 or more, got {value!r}")
    return value


def _whole(obj: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
        high is not None and value > high
    ):
        bound = f"{low}-{high}" if high is not None else f">= {low}"
        raise ValueError(f"'{name}' must be a whole number {bound}, got {value!r}")
    return value


def _text(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"'{name}' must be a string or null, got {value!r}")
    return value


def entry_from_json(obj: object) -> Entry:
    """An :class:`Entry` from one decoded JSON-lines object; ``ValueError`` names the bad field."""
    if type(obj) is dict:
        # Fast path: a well-formed line as the emulator writes it (checked with `type() is`).
        get = obj.get
        t, status, cls = get("time"), get("status"), get("class")
        model, max_tokens, key = get("model"), get("max_tokens"), get("key")
        key_id, account, path = get("key_id"), get("account"), get("path")
        stream, retry_after, reset = get("stream", False), get("retry_after"), get("rate_limit_reset")
        if (
            (type(t) is float or type(t) is int) and 0 <= t < math.inf
            and type(status) is int and 100 <= status <= 599
            and type(cls) is str and cls
            and (model is None or type(model) is str)
            and (max_tokens is None or (type(max_tokens) is int and max_tokens >= 1))
            and (key is None or type(key) is str)
            and (key_id is None or type(key_id) is str)
            and (account is None or type(account) is str)
            and (path is None or type(path) is str)
            and (stream is False or stream is True)
            and (retry_after is None or ((type(retry_after) is int or type(retry_after) is float)
                                         and 0 <= retry_after < math.inf))
            and (reset is None or (type(reset) is int and reset >= 0))
        ):
            return Entry(float(t), status, cls, model, max_tokens, stream, key, key_id, account,
                         CHAT_PATH if path is None else path, retry_after, reset)
    return _checked_entry(obj)


def _checked_entry(obj: object) -> Entry:
    """The slow path of :func:`entry_from_json`: every field checked, the first fault named."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    time = _number(obj, "time", required=True)
    status = _whole(obj, "status", 100, 599)
    if status is None:
        raise ValueError("'status' is missing")
    call_class = obj.get("class")
    if not isinstance(call_class, str) or not call_class:
        raise ValueError("'class' is missing" if call_class is None
                         else f"'class' must be a non-empty string, got {call_class!r}")
    stream = obj.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise ValueError(f"'stream' must be true or false, got {stream!r}")
    path = _text(obj, "path")
    return Entry(
        time=float(time),  # type: ignore[arg-type]
        status=status,
        call_class=call_class,
        model=_text(obj, "model"),
        max_tokens=_whole(obj, "max_tokens", 1),
        stream=stream,
        key=_text(obj, "key"),
        key_id=_text(obj, "key_id"),
        account=_text(obj, "account"),
        path=CHAT_PATH if path is None else path,
        retry_after=_number(obj, "retry_after"),
        rate_limit_reset=_whole(obj, "rate_limit_reset", 0),
    )


def _read_text(name: str) -> list[str]:
    """A file's lines, decoded at once (a bad byte is reported with its line number)."""
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise JournalError("no such file", source=name) from None
    except IsADirectoryError:
        raise JournalError("is a directory, not a journal file", source=name) from None
    except OSError as exc:
        raise JournalError(f"cannot read it: {exc.strerror}", source=name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise JournalError("not UTF-8 text", line=line, source=name) from None
    # Not str.splitlines(): a JSON string may hold U+2028, which it would split on.
    return text.split("\n")


def read_journal(source: PathOrFile | Iterable[str | bytes], *, name: str | None = None) -> list[Entry]:
    """Read a JSON-lines journal: a path, an open file, or an iterable of lines.

    Blank lines are skipped. The first bad line raises :class:`JournalError` naming its line
    number and what is wrong with it. The entries come back oldest first (a stable sort by
    ``time``: a file written as answers complete may be slightly out of order).
    """
    lines: Iterable[str | bytes]
    if isinstance(source, (str, os.PathLike)):
        name = name or os.fspath(source)
        lines = _read_text(os.fspath(source))
    else:
        name = name or getattr(source, "name", None)
        lines = source
    entries: list[Entry] = []
    append, loads, convert = entries.append, json.loads, entry_from_json
    number = 0
    try:
        for number, raw in enumerate(lines, 1):
            if type(raw) is not str:
                try:
                    raw = raw.decode("utf-8")  # type: ignore[union-attr]
                except UnicodeDecodeError:
                    raise JournalError("not UTF-8 text", line=number, source=name) from None
            raw = raw.rstrip("\r\n")
            if not raw or raw.isspace():
                continue
            try:
                obj = loads(raw)
            except ValueError as exc:
                detail = f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else exc
                raise JournalError(f"not valid JSON ({detail})", line=number, source=name) from None
            except RecursionError:
                raise JournalError("not valid JSON (nested too deeply)", line=number,
                                   source=name) from None
            try:
                append(convert(obj))
            except ValueError as exc:
                raise JournalError(str(exc), line=number, source=name) from None
    except OSError as exc:
        raise JournalError(f"cannot read it: {exc.strerror or exc}", line=number or None,
                           source=name) from None
    entries.sort(key=_time_of)
    return entries


def _time_of(entry: Entry) -> float:
    return entry.time


def _open_sink(sink: PathOrFile | None) -> tuple[IO[str] | None, IO[str] | None]:
    """``(sink, owned)``: the file to write to and, when this module opened it, the same file
    (to close later). A path is opened for writing, replacing an old file. [inv] one file, one
    run."""
    if sink is None:
        return None, None
    if isinstance(sink, (str, os.PathLike)):
        try:
            owned = open(sink, "w", encoding="utf-8")  # noqa: SIM115 - closed by Journal.close()
        except OSError as exc:
            raise ValueError(f"journal: cannot write {os.fspath(sink)}: {exc.strerror}") from None
        return owned, owned
    if isinstance(sink, io.IOBase) or hasattr(sink, "write"):
        return sink, None  # type: ignore[return-value]
    raise ValueError(f"journal: expected a path or a text file, got {sink!r}")


class Journal(Sequence[Entry]):
    """The entries of one emulator, oldest first; safe to record into from threads and tasks.

    Parameters
    ----------
    sink:
        Optional path or text file: every entry is also written there as one JSON line, flushed
        at once. A path is opened for writing (an existing file is replaced [inv]: one file, one
        run); :meth:`close` closes it.
    maxlen:
        Entries kept in memory at most; older ones are dropped and counted in :attr:`dropped`.

    Entries are kept in time order: one that arrives late (a slow answer recorded after a
    quicker one that came in later) is put in its place. :meth:`clear` empties the memory
    (the sink file keeps what was written).
    """

    def __init__(self, sink: PathOrFile | None = None, *, maxlen: int | None = DEFAULT_MAXLEN) -> None:
        if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1):
            raise ValueError(f"maxlen: expected a whole number >= 1 or None, got {maxlen!r}")
        self._entries: deque[Entry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._salt = secrets.token_bytes(16)
        self._key_ids: dict[str, tuple[str, str]] = {}
        self.dropped = 0
        #: Why the sink file stopped being written (``None`` while all is well).
        self.sink_error: str | None = None
        self._written = 0
        self._sink, self._owned = _open_sink(sink)

    # -- recording -----------------------------------------------------------------------------

    def _key_fields(self, key: str | None) -> tuple[str | None, str | None]:
        if not key:
            return None, None
        known = self._key_ids.get(key)
        if known is None:
            digest = hmac.new(self._salt, key.encode("utf-8", "surrogateescape"), hashlib.sha256)
            known = self._key_ids[key] = (mask(key), digest.hexdigest()[:_KEY_ID_HEX])
        return known

    def record(
        self,
        *,
        time: float,
        status: int,
        call_class: str,
        key: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        stream: bool = False,
        account: str | None = None,
        path: str = CHAT_PATH,
        retry_after: float | None = None,
        rate_limit_reset: int | None = None,
    ) -> Entry:
        """Record one answer. ``key`` is the raw key: only its masked form and id are kept.

        ``time`` is kept to the microsecond, as the JSON lines write it: the entries in memory
        and those read back from the file are equal, so their verdicts are too.
        """
        time = round(time, 6)
        with self._lock:
            masked, key_id = self._key_fields(key)
            entry = Entry(time, status, call_class, model, max_tokens, stream, masked, key_id,
                          account, path, retry_after, rate_limit_reset)
            self._add_locked(entry)
        return entry

    def add(self, entry: Entry) -> None:
        """Add an entry built elsewhere (read from a file, or made by hand in a test)."""
        if not isinstance(entry, Entry):
            raise TypeError(f"journal: expected an Entry, got {type(entry).__name__}")
        with self._lock:
            self._add_locked(entry)

    def _add_locked(self, entry: Entry) -> None:
        entries = self._entries
        if entries.maxlen is not None and len(entries) == entries.maxlen:
            entries.popleft()
            self.dropped += 1
        if not entries or entries[-1].time <= entry.time:
            entries.append(entry)
        else:
            # Late: walk back from the end (it is nearly always within the last few entries).
            index = len(entries) - 1
            while index > 0 and entries[index - 1].time > entry.time:
                index -= 1
            entries.insert(index, entry)
        sink = self._sink
        if sink is not None:
            try:
                sink.write(json.dumps(entry.to_json(), separators=(",", ":")) + "\n")
                sink.flush()
            except (OSError, ValueError) as exc:  # a full disk, a file closed under us
                # The server keeps answering; the file stops here, and says so once.
                self.sink_error = (f"journal: writing {self.sink_name} failed after "
                                   f"{self._written} lines: {getattr(exc, 'strerror', None) or exc}")
                self._sink = None
            else:
                self._written += 1

    # -- reading -------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        with self._lock:
            if isinstance(index, slice):
                return list(self._entries)[index]
            return self._entries[index]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def clear(self) -> None:
        """Forget every entry in memory (the reset of the emulator calls this)."""
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def select(self, *, since: float | None = None, limit: int | None = None) -> list[Entry]:
        """The entries from ``since`` on (Unix seconds, inclusive), the newest ``limit`` of them,
        oldest first. [inv] ``limit`` keeps the newest: the tail is what one reads while a run
        goes on; ``since`` then pages forward."""
        with self._lock:
            return self._select_locked(since, limit)

    def _select_locked(self, since: float | None, limit: int | None) -> list[Entry]:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit: expected a whole number >= 1, got {limit!r}")
        entries = self._entries
        start = 0
        if since is not None:
            # Entries are in time order: bisect on time.
            high = len(entries)
            while start < high:
                middle = (start + high) // 2
                if entries[middle].time < since:
                    start = middle + 1
                else:
                    high = middle
        if limit is not None:
            start = max(start, len(entries) - limit)
        return list(itertools.islice(entries, start, None))

    def to_json(self, *, since: float | None = None, limit: int | None = None) -> dict[str, Any]:
        """``{"data": [entries, oldest first], "count": n, "total": n, "dropped": n}``: ``count``
        entries returned (see :meth:`select` for ``since`` and ``limit``), ``total`` held."""
        with self._lock:
            selected = self._select_locked(since, limit)
            total, dropped = len(self._entries), self.dropped
        return {"data": [entry.to_json() for entry in selected], "count": len(selected),
                "total": total, "dropped": dropped}

    def set_sink(self, sink: PathOrFile | None) -> None:
        """Write the entries from now on to ``sink`` (a path or a text file; ``None``: no file).

        The entries in memory stay; a file this journal opened before is closed. A path that
        cannot be written raises ``ValueError`` and leaves the journal as it was.
        """
        new, owned = _open_sink(sink)
        with self._lock:
            old = self._owned
            self._sink, self._owned = new, owned
            self.sink_error, self._written = None, 0
        if old is not None:
            old.close()

    @property
    def sink_name(self) -> str | None:
        """The name of the file entries are written to (``None``: memory only)."""
        sink = self._sink
        return None if sink is None else str(getattr(sink, "name", "<file>"))

    def close(self) -> None:
        """Close the sink file this journal opened (a file passed in stays open)."""
        with self._lock:
            if self._owned is not None:
                self._owned.close()
                self._owned = None
            self._sink = None

    def __repr__(self) -> str:
        sink = " with a file" if self._sink is not None else ""
        return f"Journal({len(self)} entries, dropped={self.dropped}{sink})"
