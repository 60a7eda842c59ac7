"""The pytest plugin, tested with pytest's own ``pytester``: loading, fixtures, marker, guard.

The inner sessions run in this process (``runpytest``), so they load the plugin the way any
project does: through the ``pytest11`` entry point of the installed package.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

FREE = "meta-llama/llama-3.3-70b-instruct:free"
ENV_NAMES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "OPENROUTER_API_BASE",
             "OPENROUTER_BASE_URL")


@pytest.fixture(autouse=True)
def _no_inherited_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_loading_the_plugin_imports_no_server_and_starts_nothing():
    code = (
        "import sys, threading, orwidgets.pytest_plugin; "
        "heavy = [m for m in ('uvicorn', 'starlette', 'httpx', 'httpx2', 'plotly', 'ipywidgets',"
        " 'orwidgets.emulator') if m in sys.modules]; "
        "print(heavy, threading.active_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] 1"


def test_the_plugin_is_loaded_through_its_entry_point(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import sys, threading

        def test_loaded(request):
            plugin = request.config.pluginmanager.get_plugin("orwidgets")
            assert plugin is sys.modules["orwidgets.pytest_plugin"]

        def test_nothing_runs_until_a_fixture_is_used():
            names = [t.name for t in threading.enumerate()]
            assert not any(n.startswith("orwidgets-emulator") for n in names), names
    """)
    # In a process of its own: servers of this suite's other tests must not count.
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_p_no_orwidgets_turns_it_off(pytester: pytest.Pytester):
    pytester.makepyfile("""
        def test_uses_it(openrouter_emulator):
            pass
    """)
    result = pytester.runpytest("-p", "no:orwidgets")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'openrouter_emulator' not found*"])


def test_the_marker_is_registered_for_strict_markers(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.openrouter(policy="2026-08")
        def test_marked():
            pass
    """)
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.openrouter(policy=None, latency_ms=0, faults=None, "
                                 "accounts=None, now=None, freeze=False): configure the "
                                 "orwidgets OpenRouter*"])


def test_the_emulator_fixture_answers_on_loopback(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import httpx

        def test_chat(openrouter_emulator):
            emu = openrouter_emulator
            assert emu.base_url.startswith("http://127.0.0.1:")
            assert emu.api_base == emu.base_url + "/api/v1"
            from orwidgets.emulator import DEMO_ACCOUNTS
            assert set(emu.keys) >= {{d.name for d in DEMO_ACCOUNTS}}  # the demo keys, by name
            assert emu.policy == "2025-04"
            r = httpx.post(emu.api_base + "/chat/completions",
                           headers={{"Authorization": "Bearer " + emu.keys["free"]}},
                           json={{"model": "{FREE}", "messages": [{{"role": "user", "content": "hi"}}]}})
            assert r.status_code == 200
            admin = httpx.get(emu.base_url + "/_emulator/policy",
                              headers={{"X-Admin-Token": emu.admin_token}})
            assert admin.json()["policy"] == "2025-04"
            assert emu.keys["free"] not in repr(emu)
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_one_server_per_session_and_fresh_state_for_every_test(pytester: pytest.Pytester):
    # The 21 calls of a minute are counted on a frozen clock: on real time they took 2-5 s here
    # (httpx.post builds a client and a TLS context per call), and a wall-clock minute that
    # ended among them made the 21st a call of the next minute, answered 200.
    pytester.makepyfile(f"""
        import time
        import httpx

        SEEN = []

        def chat(emu):
            return httpx.post(emu.api_base + "/chat/completions",
                              headers={{"Authorization": "Bearer " + emu.keys["free"]}},
                              json={{"model": "{FREE}", "messages": [{{"role": "user", "content": "hi"}}]}})

        def test_spend_the_minute(openrouter_emulator):
            SEEN.append(openrouter_emulator.base_url)
            emu = openrouter_emulator
            emu.clock.set(1_767_268_859.5)                 # 2026-01-01T12:00:59.5Z
            emu.clock.freeze()
            emu.set_faults([{{"kind": "http_503", "model": "openai/*"}}])
            emu.set_policy("legacy-2024")
            emu.add_account("extra", balance_usd=3)
            first = [chat(emu).status_code for _ in range(10)]
            time.sleep(0.6)                                # past 12:01 on a running clock
            then = [chat(emu).status_code for _ in range(11)]
            assert (first + then)[-2:] == [200, 429]       # all 21 in the frozen minute
            assert len(emu.journal) == 21

        def test_everything_is_back(openrouter_emulator):
            emu = openrouter_emulator
            SEEN.append(emu.base_url)
            assert SEEN[0] == SEEN[1]                      # the same server
            assert not emu.clock.frozen
            assert abs(emu.clock.now() - time.time()) < 60   # real time again
            assert emu.emulator.faults.rules == []
            assert emu.policy == "2025-04"
            assert "extra" not in emu.keys
            assert len(emu.journal) == 0
            assert chat(emu).status_code == 200            # counters are back at zero
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_marker_freezes_the_clock_at_its_now(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import time
        import pytest

        @pytest.mark.openrouter(now="2026-01-01T12:00:59.5Z", freeze=True)
        def test_frozen(openrouter_emulator):
            clock = openrouter_emulator.clock
            assert clock.frozen and clock.now() == 1767268859.5
            time.sleep(0.6)
            assert clock.now() == 1767268859.5             # still inside 12:00
            assert clock.advance(0.5) == 1767268860.0

        @pytest.mark.openrouter(freeze=False)
        def test_running(openrouter_emulator):
            assert not openrouter_emulator.clock.frozen
    """)
    pytester.runpytest().assert_outcomes(passed=2)


def test_the_clock_advances_the_emulators_time(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.openrouter(now="2026-01-01T23:59:55Z")
        def test_clock(openrouter_emulator):
            clock = openrouter_emulator.clock
            start = clock.now()
            assert 1767311995 <= start < 1767311995 + 30
            assert clock.advance(10) >= start + 10
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_openrouter_env_points_clients_at_the_emulator_and_restores_them(pytester: pytest.Pytester,
                                                                          monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "the-users-own-value")
    pytester.makepyfile(f"""
        import os
        import openai

        def test_env(openrouter_env):
            emu = openrouter_env
            assert os.environ["OPENAI_BASE_URL"] == emu.api_base
            assert os.environ["OPENROUTER_API_BASE"] == emu.api_base
            assert os.environ["OPENROUTER_BASE_URL"] == emu.api_base
            assert os.environ["OPENAI_API_KEY"] == emu.keys["free"]
            assert os.environ["OPENROUTER_API_KEY"] == emu.keys["free"]
            client = openai.OpenAI(max_retries=0)
            reply = client.chat.completions.create(
                model="{FREE}", messages=[{{"role": "user", "content": "hi"}}])
            assert reply.model == "{FREE}"

        def test_after():
            assert os.environ["OPENAI_API_KEY"] == "the-users-own-value"
            assert "OPENAI_BASE_URL" not in os.environ
            assert "OPENROUTER_API_BASE" not in os.environ
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
    assert os.environ["OPENAI_API_KEY"] == "the-users-own-value"
    assert "OPENROUTER_API_KEY" not in os.environ


def test_marker_at_module_and_test_level_the_test_wins_per_keyword(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import pytest

        pytestmark = pytest.mark.openrouter(
            policy="2026-08", faults=[{"kind": "upstream_429", "retry_after_s": 7}])

        def test_module_level(openrouter_emulator):
            emu = openrouter_emulator
            assert emu.policy == "2026-08"
            assert [r.kind for r in emu.emulator.faults.rules] == ["upstream_429"]
            assert emu.emulator.latency_ms == (0.0, 0.0)

        @pytest.mark.openrouter(policy="legacy-2024", latency_ms="5-9",
                                accounts=[{"name": "rich", "balance_usd": 50, "purchased_usd": 50}])
        def test_test_level(openrouter_emulator):
            emu = openrouter_emulator
            assert emu.policy == "legacy-2024"                             # the test's own
            assert [r.retry_after_s for r in emu.emulator.faults.rules] == [7]   # the module's
            assert emu.emulator.latency_ms == (5.0, 9.0)
            acct = emu.emulator.engine.account_for_key(emu.keys["rich"])
            assert (acct.balance_usd, acct.purchased_usd) == (50.0, 50.0)

        class TestClass:
            pytestmark = pytest.mark.openrouter(policy="current")

            def test_class_level(self, openrouter_emulator):
                assert openrouter_emulator.policy == "2026-08"   # the alias, as its dated id

            @pytest.mark.openrouter(policy="2025-07")
            def test_method_level(self, openrouter_emulator):
                assert openrouter_emulator.policy == "2025-07"
    """)
    pytester.runpytest().assert_outcomes(passed=4)


BAD_MARKERS = [
    ("'2025-04'", "positional arguments are not accepted, got ('2025-04',)"),
    ("polcy='2025-04'",
     "unknown keyword 'polcy'; accepted: policy, latency_ms, faults, accounts, now, freeze"),
    ("policy='1999'", "policy: unknown policy version '1999'; choose one of legacy-2024, *"),
    ("latency_ms='fast'", "latency_ms: expected '30' or '20-50' (milliseconds, 0 or more), got 'fast'"),
    ("faults={'kind': 'http_503'}", "faults: expected a list of fault rules, got {'kind': 'http_503'}"),
    ("faults=[{'kind': 'boom'}]", "faults: rules[0].kind: expected one of upstream_429*got 'boom'"),
    ("accounts=[{'balance_usd': 5}]", "accounts[0].name: expected a non-empty string*"),
    ("accounts=[{'name': 'free'}]", "accounts[0].name: 'free' is taken*"),
    ("accounts=[{'name': 'x', 'colour': 'red'}]", "accounts[0]: unknown field 'colour'*"),
    ("accounts=[{'name': 'x', 'purchased_usd': -1}]",
     "accounts[0]: purchased_usd: must be zero or more, got -1"),
    ("now='noon'", "now: expected an ISO 8601 time such as '2026-01-01T23:59:55Z', got 'noon'"),
    ("freeze='yes'", "freeze: expected True or False, got 'yes'"),
    ("faults=[{'kind': 'http_503', 'times': 0}]",
     "faults: rules[0].times: expected a whole number >= 1 (calls it answers, then never again)*"),
]


def test_bad_marker_arguments_give_a_clear_usage_error(pytester: pytest.Pytester):
    tests = "\n".join(
        f"@pytest.mark.openrouter({marker})\ndef test_bad_{i}(openrouter_emulator):\n    pass\n"
        for i, (marker, _) in enumerate(BAD_MARKERS)
    )
    pytester.makepyfile("import pytest\n\n" + tests)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=len(BAD_MARKERS))
    name = "test_bad_marker_arguments_give_a_clear_usage_error.py"
    for i, (_, message) in enumerate(BAD_MARKERS):
        result.stdout.fnmatch_lines([  # "[" opens a character class in fnmatch patterns
            f"@pytest.mark.openrouter on {name}::test_bad_{i}: {message}".replace("[", "[[]"),
            "usage: @pytest.mark.openrouter(policy='2025-04', latency_ms=0, *",
        ])
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()


def test_journal_verdict_and_assert_resilient_judge_what_the_test_sent(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import httpx
        import pytest

        def chat(http):
            return http.post("/chat/completions", json={{"model": "{FREE}", "max_tokens": 8,
                             "messages": [{{"role": "user", "content": "hi"}}]}})

        @pytest.mark.openrouter(now="2026-01-01T12:00:01Z", freeze=True)
        def test_hammering(openrouter_env):
            emu = openrouter_env
            with httpx.Client(base_url=emu.api_base, headers={{
                    "Authorization": "Bearer " + emu.keys["free"]}}) as http:
                statuses = [chat(http).status_code for _ in range(23)]
            assert statuses == [200] * 20 + [429] * 3
            assert [e.status for e in emu.journal] == statuses
            assert emu.journal[20].rate_limit_reset == 1767268860000
            [finding] = emu.verdict()
            assert (finding.rule, finding.count) == ("retry-before-reset", 2)
            assert finding.calls == tuple(emu.journal[20:])
            with pytest.raises(AssertionError, match=r"1\\. \\[retry-before-reset\\] key sk-or-v1-"):
                emu.assert_resilient()

        def test_the_next_test_starts_with_an_empty_journal(openrouter_emulator):
            assert len(openrouter_emulator.journal) == 0
            assert openrouter_emulator.verdict() == []
            openrouter_emulator.assert_resilient()

        @pytest.mark.openrouter(faults=[{{"kind": "upstream_429", "times": 2, "retry_after_s": 1}}],
                                freeze=True)
        def test_waiting_out_retry_after_is_resilient(openrouter_env):
            import openai
            from orwidgets.client import with_retries

            emu = openrouter_env
            client = openai.OpenAI(max_retries=0)
            reply = with_retries(lambda: client.chat.completions.create(
                model="{FREE}", messages=[{{"role": "user", "content": "hi"}}], max_tokens=8),
                clock=emu.clock.now, sleep=emu.clock.advance)
            assert reply.choices[0].finish_reason in ("stop", "length")
            assert [(e.status, e.call_class, e.retry_after) for e in emu.journal] == [
                (429, "upstream_429", 1), (429, "upstream_429", 1), (200, "ok", None)]
            emu.assert_resilient()
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)


# --- the guard ----------------------------------------------------------------------------------

GUARDED = """
    import socket
    import pytest
    from orwidgets.pytest_plugin import RealOpenRouterBlocked

    def test_getaddrinfo():
        with pytest.raises(RealOpenRouterBlocked, match=r"tried to reach the real OpenRouter API "
                           r"\\(openrouter.ai, through socket.getaddrinfo\\)"):
            socket.getaddrinfo("openrouter.ai", 443)

    def test_create_connection_and_subdomains():
        with pytest.raises(RealOpenRouterBlocked):
            socket.create_connection(("API.OpenRouter.ai.", 443), timeout=1)

    def test_httpx():
        import httpx
        with pytest.raises(RealOpenRouterBlocked, match="through httpx"):
            httpx.get("https://openrouter.ai/api/v1/models")

    def test_httpx_async():
        import asyncio, httpx

        async def main():
            async with httpx.AsyncClient() as client:
                await client.get("https://openrouter.ai/api/v1/models")

        with pytest.raises(RealOpenRouterBlocked, match="through httpx"):
            asyncio.run(main())

    def test_requests():
        import requests
        with pytest.raises(RealOpenRouterBlocked, match="through requests"):
            requests.get("https://openrouter.ai/api/v1/models", timeout=1)

    def test_urllib():
        import urllib.request
        with pytest.raises(RealOpenRouterBlocked):
            urllib.request.urlopen("https://openrouter.ai/api/v1/models", timeout=1)

    def test_the_openai_sdk_fails_at_once_instead_of_retrying():
        import openai
        client = openai.OpenAI(base_url="https://openrouter.ai/api/v1", api_key="sk-or-v1-x",
                               max_retries=5)
        # Not APIConnectionError after five backoffs: pytest's failure goes through its retry loop.
        with pytest.raises(RealOpenRouterBlocked):
            client.models.list()

    def test_a_proxy_does_not_hide_the_host(monkeypatch):
        import httpx
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        with pytest.raises(RealOpenRouterBlocked, match="through httpx"):
            httpx.get("https://openrouter.ai/api/v1/models")

    def test_uncaught_it_fails_the_test_with_the_message():
        socket.getaddrinfo("openrouter.ai", 443)

    def test_loopback_and_the_emulator_are_untouched(openrouter_env):
        import openai
        assert socket.getaddrinfo("127.0.0.1", 80)
        assert socket.getaddrinfo("localhost", 80)
        reply = openai.OpenAI(max_retries=0).chat.completions.create(
            model="meta-llama/llama-3.3-70b-instruct:free",
            messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
"""


def test_block_real_fails_every_way_of_reaching_openrouter_at_once(pytester: pytest.Pytester):
    pytester.makepyfile(GUARDED)
    original = socket.getaddrinfo
    result = pytester.runpytest("--openrouter-block-real")
    result.assert_outcomes(passed=9, failed=1)
    result.stdout.fnmatch_lines([
        "orwidgets: --openrouter-block-real is on (openrouter.ai is unreachable)",
        "*RealOpenRouterBlocked: orwidgets --openrouter-block-real: this test tried to reach the "
        "real OpenRouter API (openrouter.ai, through socket.getaddrinfo). Point the client at the "
        "emulator instead: the openrouter_env fixture sets OPENAI_BASE_URL*",
        "FAILED *::test_uncaught_it_fails_the_test_with_the_message*",
    ])
    assert socket.getaddrinfo is original  # the session put everything back


def test_block_real_from_the_ini_file(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import socket, pytest
        from orwidgets.pytest_plugin import RealOpenRouterBlocked

        def test_blocked():
            with pytest.raises(RealOpenRouterBlocked):
                socket.getaddrinfo("openrouter.ai", 443)
    """)
    pytester.makeini("[pytest]\nopenrouter_block_real = true\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_without_the_option_nothing_is_patched(pytester: pytest.Pytester):
    # Same process: the inner session must leave what it finds (this suite may run guarded itself).
    import http.client

    before = (id(socket.getaddrinfo), id(http.client.HTTPConnection.connect))
    pytester.makepyfile("""
        import http.client, socket

        def test_untouched():
            print("ids", id(socket.getaddrinfo), id(http.client.HTTPConnection.connect))
    """)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*ids {before[0]} {before[1]}*"])
    assert "openrouter-block-real is on" not in result.stdout.str()
