"""The journal: entries, order by time under threads and tasks, the JSON-lines sink and reader."""

from __future__ import annotations

import asyncio
import io
import json
import random
import threading

import pytest

from orwidgets.journal import CHAT_PATH, Entry, Journal, JournalError, entry_from_json, read_journal

KEY = "sk-or-v1-" + "c0ffee" * 10 + "abcd"
OTHER = "sk-or-v1-" + "beef" * 16
FREE = "meta-llama/llama-3.3-70b-instruct:free"
T0 = 1_767_268_800.0  # 2026-01-01T12:00:00Z


def _record(journal: Journal, t: float, **fields) -> Entry:
    values = {"status": 200, "call_class": "ok", "key": KEY, "model": FREE}
    values.update(fields)
    return journal.record(time=t, **values)


def test_an_entry_keeps_the_key_masked_and_a_stable_id():
    journal = Journal()
    first = _record(journal, T0)
    second = _record(journal, T0 + 1)
    other = _record(journal, T0 + 2, key=OTHER)
    assert first.key == "sk-or-v1-c0f...bcd"
    assert first.key_id == second.key_id != other.key_id
    assert len(first.key_id) == 12
    line = json.dumps(journal.to_json())
    assert KEY not in line and OTHER not in line
    assert KEY not in repr(first) and KEY not in repr(journal)


def test_key_ids_differ_between_journals_so_they_cannot_be_looked_up():
    assert _record(Journal(), T0).key_id != _record(Journal(), T0).key_id


def test_a_request_without_a_key_has_no_key_and_no_id():
    entry = _record(Journal(), T0, key=None, status=401, call_class="no_auth")
    assert (entry.key, entry.key_id) == (None, None)


def test_to_json_uses_the_documented_names():
    journal = Journal()
    entry = _record(journal, T0 + 0.25, status=429, call_class="free_per_minute", max_tokens=200,
                    account="acct_free", rate_limit_reset=1_767_268_860_000)
    assert entry.to_json() == {
        "time": T0 + 0.25, "key": "sk-or-v1-c0f...bcd", "key_id": entry.key_id,
        "account": "acct_free", "path": CHAT_PATH, "model": FREE, "max_tokens": 200,
        "stream": False, "status": 429, "class": "free_per_minute", "retry_after": None,
        "rate_limit_reset": 1_767_268_860_000,
    }
    assert journal.to_json() == {"data": [entry.to_json()], "count": 1, "total": 1, "dropped": 0}


def test_a_late_entry_is_put_in_its_place():
    journal = Journal()
    for t in (T0, T0 + 2, T0 + 3):
        _record(journal, t)
    late = _record(journal, T0 + 1)
    assert [e.time for e in journal] == [T0, T0 + 1, T0 + 2, T0 + 3]
    assert journal[1] is late
    assert journal[-1].time == T0 + 3
    assert [e.time for e in journal[1:3]] == [T0 + 1, T0 + 2]


def test_equal_times_keep_their_arrival_order():
    journal = Journal()
    a = _record(journal, T0, max_tokens=1)
    b = _record(journal, T0, max_tokens=2)
    _record(journal, T0 + 1)
    c = _record(journal, T0, max_tokens=3)  # late, same instant: after a and b
    assert list(journal)[:3] == [a, b, c]


def test_clear_empties_it():
    journal = Journal()
    _record(journal, T0)
    journal.clear()
    assert len(journal) == 0
    assert journal.to_json() == {"data": [], "count": 0, "total": 0, "dropped": 0}


def test_maxlen_drops_the_oldest_and_counts_them():
    journal = Journal(maxlen=3)
    for i in range(5):
        _record(journal, T0 + i)
    assert [e.time for e in journal] == [T0 + 2, T0 + 3, T0 + 4]
    assert journal.dropped == 2
    late = _record(journal, T0 + 3.5)  # full: the oldest goes, the late one goes in its place
    assert [e.time for e in journal] == [T0 + 3, T0 + 3.5, T0 + 4] and journal[1] is late
    assert journal.dropped == 3


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_maxlen_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="maxlen: expected a whole number >= 1 or None"):
        Journal(maxlen=bad)


def test_1000_threads_lose_nothing_and_keep_time_order():
    journal = Journal()
    times = [T0 + i / 1000 for i in range(1000)]
    random.Random(3).shuffle(times)
    start = threading.Barrier(50)

    def worker(chunk: list[float]) -> None:
        start.wait()
        for t in chunk:
            _record(journal, t)

    threads = [threading.Thread(target=worker, args=(times[i::50],)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(journal) == 1000
    assert [e.time for e in journal] == sorted(times)


def test_1000_tasks_lose_nothing_and_keep_time_order():
    journal = Journal()

    async def one(i: int) -> None:
        await asyncio.sleep(0)
        _record(journal, T0 + (i * 7919 % 1000) / 1000)

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(1000)))

    asyncio.run(main())
    got = [e.time for e in journal]
    assert len(got) == 1000 and got == sorted(got)


def test_the_sink_gets_one_flushed_line_per_entry(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    first = _record(journal, T0)
    # Flushed at once: another reader sees the line before the journal is closed.
    assert path.read_text(encoding="utf-8") == json.dumps(first.to_json(), separators=(",", ":")) + "\n"
    _record(journal, T0 + 1, status=429, call_class="free_per_minute")
    journal.close()
    assert read_journal(path) == journal.entries()


def test_the_sink_replaces_an_old_file(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text("old run\n", encoding="utf-8")
    journal = Journal(path)
    journal.close()
    assert path.read_text(encoding="utf-8") == ""


def test_a_file_object_sink_stays_open():
    buffer = io.StringIO()
    journal = Journal(buffer)
    _record(journal, T0)
    journal.close()
    assert buffer.getvalue().count("\n") == 1 and not buffer.closed


def test_an_unwritable_sink_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"journal: cannot write .*missing.*No such file"):
        Journal(tmp_path / "missing" / "journal.jsonl")


def test_reader_fills_in_optional_fields_and_ignores_unknown_ones():
    entry = entry_from_json({"time": 5, "status": 429, "class": "upstream_429", "extra": 1})
    assert entry == Entry(time=5.0, status=429, call_class="upstream_429")
    assert entry.path == CHAT_PATH and entry.stream is False and entry.retry_after is None


def test_reader_sorts_by_time_and_skips_blank_lines():
    lines = ['{"time": 2, "status": 200, "class": "ok"}', "", "  ",
             '{"time": 1, "status": 429, "class": "free_per_minute"}']
    assert [e.time for e in read_journal(lines)] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"time": 1, "status": 200', "not valid JSON (Expecting ',' delimiter, column 26)"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"status": 200, "class": "ok"}', "'time' is missing"),
        ('{"time": "noon", "status": 200, "class": "ok"}', "'time' must be a number, got 'noon'"),
        ('{"time": -1, "status": 200, "class": "ok"}', "'time' must be 0 or more, got -1"),
        ('{"time": 1, "class": "ok"}', "'status' is missing"),
        ('{"time": 1, "status": 99, "class": "ok"}', "'status' must be a whole number 100-599, got 99"),
        ('{"time": 1, "status": 200}', "'class' is missing"),
        ('{"time": 1, "status": 200, "class": ""}', "'class' must be a non-empty string, got ''"),
        ('{"time": 1, "status": 200, "class": "ok", "stream": "yes"}',
         "'stream' must be true or false, got 'yes'"),
        ('{"time": 1, "status": 200, "class": "ok", "max_tokens": 0}',
         "'max_tokens' must be a whole number >= 1, got 0"),
        ('{"time": 1, "status": 200, "class": "ok", "model": 7}', "'model' must be a string or null, got 7"),
        ('{"time": 1, "status": 429, "class": "x", "retry_after": "soon"}',
         "'retry_after' must be a number, got 'soon'"),
        ('{"time": 1, "status": 429, "class": "x", "rate_limit_reset": 1.5}',
         "'rate_limit_reset' must be a whole number >= 0, got 1.5"),
    ],
)
def test_reader_names_the_bad_line_and_what_is_wrong(tmp_path, line, reason):
    path = tmp_path / "j.jsonl"
    path.write_text('{"time": 0, "status": 200, "class": "ok"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(JournalError) as caught:
        read_journal(path)
    assert caught.value.line == 3
    assert caught.value.reason == reason
    assert str(caught.value) == f"{path}, line 3: {reason}"


def test_reader_reports_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"time": 0, "status": 200, "class": "ok"}\n\xff\xfe\n')
    with pytest.raises(JournalError, match=r"line 2: not UTF-8 text"):
        read_journal(path)


def test_reader_reports_a_missing_file_and_a_directory(tmp_path):
    with pytest.raises(JournalError, match=r"nope\.jsonl: no such file$"):
        read_journal(tmp_path / "nope.jsonl")
    with pytest.raises(JournalError, match=r": is a directory, not a journal file$"):
        read_journal(tmp_path)


# --- select, the sink's failure ---------------------------------------------------------------------


def test_select_takes_from_since_on_and_the_newest_limit():
    journal = Journal()
    for i in range(5):
        _record(journal, T0 + i)
    assert [e.time for e in journal.select(since=T0 + 2.5)] == [T0 + 3, T0 + 4]
    assert [e.time for e in journal.select(since=T0 + 3)] == [T0 + 3, T0 + 4]  # inclusive
    assert [e.time for e in journal.select(limit=2)] == [T0 + 3, T0 + 4]
    assert [e.time for e in journal.select(since=T0, limit=1)] == [T0 + 4]
    assert journal.select(since=T0 + 9) == []
    with pytest.raises(ValueError, match="limit: expected a whole number >= 1, got 0"):
        journal.select(limit=0)


def test_times_are_kept_to_the_microsecond_as_the_file_writes_them():
    out = io.StringIO()
    journal = Journal(sink=out)
    entry = _record(journal, T0 + 0.123456789)
    assert entry.time == T0 + 0.123457
    assert read_journal(io.StringIO(out.getvalue())) == [entry]


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= 2:
            raise OSError(28, "No space left on device")
        return super().write(text)


def test_a_sink_that_fails_stops_once_and_says_why_while_memory_goes_on():
    sink = _FullDisk()
    journal = Journal(sink=sink)
    for i in range(4):
        _record(journal, T0 + i)
    assert len(journal) == 4 and sink.getvalue().count("\n") == 2
    assert journal.sink_error == ("journal: writing <file> failed after 2 lines: "
                                  "No space left on device")
    assert journal.sink_name is None  # no more writing to it
