"""Real-browser latency of the tutorial, next to a bare notebook measured in the same run.

Figures (headless Debian chromium, JupyterLab and Voila on loopback):

- open -> first response: from ``goto`` until the first widget has answered a key press (JupyterLab:
  open, Run All, press; Voila, with the progressive rendering of ``voila.json``: press as soon as the
  widget shows, while later cells may still run);
- key -> RPS readout and key -> chart marker: median of N key presses (Home/End alternately, so every
  press changes the balance), timed inside the page from the ``keydown`` to the DOM mutation that
  shows the new value, once the notebook has run to its end (Voila renders a cell's widgets as
  soon as that cell has run, and a press made while a later cell runs waits for that cell).

Baseline: ``tests/browser/bare.ipynb`` (one FloatSlider moving one FigureWidget marker). The machine
is shared and noisy: read the ratios, not the absolute times. With ``--opens N`` each notebook is
opened N times, tutorial and baseline alternately, and the report gives the median, the range and
the median of the N paired ratios (each opening of the tutorial against the baseline's opening
right after it). It also counts what the kernel sent the page before the first response (websocket
frames and bytes): plotly's front end is a 5 MB module.

Languages: ``--langs en,ja,zh`` opens the Japanese and Chinese tutorials
(``notebooks/<lang>/01-tutorial.ipynb``) in the same rounds as the English one, in an order that
turns each round, and reports each language's open -> first response next to English's: the
median of the paired ratios, each opening against the English opening of the same round.

Run: ``.venv/bin/python benchmarks/browser.py [--presses N] [--opens N] [--servers voila,lab]
[--langs en,ja,zh]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import orw_browser as ob

# What each notebook shows: the slider handle, and the DOM values that must change on a key press.
TUTORIAL = {
    "handle": ob.RPS_HANDLE,
    "readout": f"(document.querySelector({ob.RPS_VALUE!r}) || {{}}).textContent",
    "marker": (
        # The trace's meta is its English name in every language (its name is translated).
        "(() => { const g = document.querySelector('.orw-rps-explorer .js-plotly-plot');"
        " const t = g && g.data && g.data.find(d => d.meta === 'current balance');"
        " return t ? String(t.x[0]) : undefined; })()"
    ),
}
BARE = {
    "handle": ".bare-slider .noUi-handle",
    "readout": None,
    "marker": (
        "(() => { const g = document.querySelector('.js-plotly-plot');"
        " const t = g && g.data && g.data.find(d => d.name === 'marker');"
        " return t ? String(t.x[0]) : undefined; })()"
    ),
}

# Installed before the key press: records the keydown time, then the time each watched value first
# differs from its value at install time (a MutationObserver on the whole document: the readout is
# HTML text, the marker an SVG transform).
_ARM_JS = """([exprs]) => {
  const read = exprs.map(e => new Function('return ' + e));
  const before = read.map(f => f());
  const out = {t0: null, t: read.map(() => null)};
  window.__orwBench = out;
  document.addEventListener('keydown', () => { out.t0 = performance.now(); },
                            {capture: true, once: true});
  const check = () => {
    read.forEach((f, i) => {
      if (out.t[i] === null && out.t0 !== null && f() !== before[i]) out.t[i] = performance.now();
    });
    if (out.t.every(v => v !== null)) obs.disconnect();
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, characterData: true,
                              attributes: true});
}"""


def _exprs(kind: dict[str, Any]) -> list[str]:
    return [e for e in (kind["readout"], kind["marker"]) if e]


def _press_and_time(page: Any, kind: dict[str, Any], key: str) -> list[float | None]:
    """Milliseconds from keydown to each watched value changing (readout first, then marker);
    None for a secondary value that did not change within a few seconds (a broken chart)."""
    page.evaluate(_ARM_JS, [_exprs(kind)])
    page.focus(kind["handle"])
    page.keyboard.press(key)
    page.wait_for_function("() => window.__orwBench.t[0] !== null", timeout=ob.REACT_MS)
    with contextlib.suppress(Exception):  # a value that never changes is reported as missing
        page.wait_for_function("() => window.__orwBench.t.every(v => v !== null)", timeout=3000)
    res = page.evaluate("() => window.__orwBench")
    return [None if t is None else t - res["t0"] for t in res["t"]]


def _first_response(page: Any, kind: dict[str, Any], t0: float) -> float:
    """Seconds from ``t0`` until the first widget answers an End key press (the readout for the
    tutorial, the marker for the bare notebook). Both notebooks start below the slider's end."""
    page.wait_for_selector(kind["handle"], timeout=ob.RENDER_MS)
    primary = kind["readout"] or kind["marker"]
    page.wait_for_function(f"() => {primary} !== undefined", timeout=ob.RENDER_MS)
    page.evaluate(_ARM_JS, [[primary]])
    page.focus(kind["handle"])
    page.keyboard.press("End")
    page.wait_for_function("() => window.__orwBench.t[0] !== null", timeout=ob.REACT_MS)
    return time.perf_counter() - t0


def _presses(page: Any, kind: dict[str, Any], n: int) -> list[list[float | None]]:
    """n presses alternating Home/End (each changes the value), after one to reach Home."""
    page.focus(kind["handle"])
    with contextlib.suppress(Exception):  # already at Home: nothing changes, nothing to time
        _press_and_time(page, kind, "Home")
    return [_press_and_time(page, kind, "End" if i % 2 == 0 else "Home") for i in range(n)]


class _VoilaRun:
    """Whether Voila has run the whole notebook: with progressive rendering its page closes the
    execution websocket after the last cell's result."""

    def __init__(self, page: Any) -> None:
        self.sockets: list[Any] = []
        page.on("websocket", self._seen)

    def _seen(self, ws: Any) -> None:
        if "/voila/execution/" in ws.url:
            self.sockets.append(ws)

    def wait(self, page: Any, timeout_ms: int = ob.RUN_ALL_MS) -> None:
        # Without progressive rendering there is no such socket: the page came after the run.
        deadline = time.monotonic() + timeout_ms / 1000
        while not all(ws.is_closed() for ws in self.sockets):
            if time.monotonic() > deadline:
                raise TimeoutError("Voila did not finish running the notebook")
            page.wait_for_timeout(100)  # lets Playwright deliver the websocket's close event


class _Opened:
    """One opening: the page, the seconds to the first response, what came before it, and a way
    to wait until the notebook has run to its end (JupyterLab's Run All already waited)."""

    def __init__(
        self,
        context: Any,
        page: Any,
        seconds: float,
        frames: ob.FrameCounter,
        voila_run: _VoilaRun | None = None,
    ) -> None:
        self.context, self.page, self.seconds = context, page, seconds
        self.frames, self.bytes = frames.frames, frames.bytes
        self._voila_run = voila_run

    def wait_until_run(self) -> None:
        if self._voila_run is not None:
            self._voila_run.wait(self.page)


def _open_lab(browser: Any, lab: ob.Server, path: str, kind: dict[str, Any]) -> _Opened:
    context, page, _ = ob.new_page(browser)
    frames = ob.FrameCounter(page)
    t0 = time.perf_counter()
    ob.open_lab_notebook(page, lab, path)
    ob.run_all_cells(page)
    return _Opened(context, page, _first_response(page, kind, t0), frames)


def _open_voila(browser: Any, voila: ob.Server, path: str, kind: dict[str, Any]) -> _Opened:
    context, page, _ = ob.new_page(browser)
    frames = ob.FrameCounter(page)
    voila_run = _VoilaRun(page)
    t0 = time.perf_counter()
    ob.open_voila(page, voila, path)
    return _Opened(context, page, _first_response(page, kind, t0), frames, voila_run)


def _series(rows: list[list[float | None]], i: int) -> list[float]:
    return [r[i] for r in rows if r[i] is not None]  # type: ignore[misc]


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _row(label: str, tut: float, bare: float, unit: str) -> str:
    ratio = tut / bare if bare else float("nan")
    digits = 1 if unit == "s" else 0
    return f"{label:<42}{tut:>10.{digits}f}{bare:>10.{digits}f} {unit:<3}{ratio:>7.2f}x"


def _spread(xs: list[float], unit: str = "s") -> str:
    """``median (min-max)`` of a series, or ``-`` when it is empty."""
    if not xs:
        return "-"
    digits = 2 if unit == "x" else 1
    return f"{_median(xs):.{digits}f} ({min(xs):.{digits}f}-{max(xs):.{digits}f}){unit}"


def _lang_of(name: str) -> str:
    """``tutorial`` -> ``en``, ``tutorial-ja`` -> ``ja``."""
    return name.removeprefix("tutorial-") if name != "tutorial" else "en"


def paired_ratios(tut: list[float], bare: list[float]) -> list[float]:
    """Each opening of the tutorial against the baseline's opening of the same round."""
    return [t / b for t, b in zip(tut, bare) if b > 0]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``servers`` and ``langs`` as lists (English first in ``langs``); a
    wrong value exits 2 with argparse's one line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20, help="key presses per notebook")
    parser.add_argument("--opens", type=int, default=1, help="page openings per notebook/server")
    parser.add_argument(
        "--servers",
        default="voila,lab",
        help="comma-separated: voila, lab (default both)",
    )
    parser.add_argument(
        "--langs",
        default="en",
        help="comma-separated tutorial languages: en, ja, zh (default en; English is always "
        "measured, as the others' baseline)",
    )
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(args.servers) - {"voila", "lab"})
    if unknown or not args.servers:
        parser.error(f"--servers takes voila and/or lab, not {','.join(unknown) or 'nothing'}")
    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    unknown = sorted(set(langs) - {"en", *ob.TRANSLATED})
    if unknown:
        parser.error(f"--langs takes en, {', '.join(ob.TRANSLATED)}, not {','.join(unknown)}")
    args.langs = ["en", *dict.fromkeys(lang for lang in langs if lang != "en")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    if ob.chromium_path() is None:
        message = f"benchmarks/browser.py: no `chromium` on PATH; {ob.INSTALL_HINT}"
        print("!" * 80 + "\n" + message + "\n" + "!" * 80, file=sys.stderr)
        return 1 if os.environ.get("CI", "").lower() == "true" else 0
    tutorials = [ob.TUTORIAL, *(ob.TUTORIAL.parent / lang / ob.TUTORIAL.name
                                for lang in args.langs if lang != "en")]
    for tutorial in tutorials:
        if not tutorial.exists():
            print(f"benchmarks/browser.py: {tutorial} missing", file=sys.stderr)
            return 1

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="orw-bench-browser-") as tmp:
        sandbox = ob.make_sandbox(Path(tmp))
        servers: dict[str, ob.Server] = {}
        try:
            if "voila" in args.servers:
                servers["voila"] = ob.start_voila(sandbox)
            if "lab" in args.servers:
                servers["lab"] = ob.start_lab(sandbox)
            with sync_playwright() as p:
                browser = ob.launch_chromium(p)
                try:
                    return _measure(browser, servers, sandbox, args)
                finally:
                    browser.close()
        finally:
            for server in servers.values():
                server.stop()


def _measure(
    browser: Any, servers: dict[str, ob.Server], sandbox: ob.Sandbox, args: argparse.Namespace
) -> int:
    translated = {f"tutorial-{lang}": (sandbox.tutorial_in(lang), TUTORIAL)
                  for lang in args.langs if lang != "en"}
    notebooks = {"tutorial": (sandbox.tutorial, TUTORIAL), **translated,
                 "bare": (sandbox.bare, BARE)}
    openers = {"voila": _open_voila, "lab": _open_lab}
    opened: dict[tuple[str, str], list[float]] = {}
    received: dict[tuple[str, str], list[tuple[int, int]]] = {}
    keys: dict[tuple[str, str], list[list[float | None]]] = {}
    failures: dict[tuple[str, str], str] = {}
    # Interleave tutorial and baseline so that load from other users hits both alike; the
    # tutorials' order turns each round, so that no language always opens first.
    for round_no in range(args.opens):
        tutorials = [n for n in notebooks if n != "bare"]
        turn = round_no % len(tutorials)
        order = [*tutorials[turn:], *tutorials[:turn], "bare"]
        for server_name, server in servers.items():
            for name in order:
                path, kind = notebooks[name]
                where = (server_name, name)
                if where in failures:
                    continue
                context = None
                try:
                    one = openers[server_name](browser, server, path, kind)
                    context = one.context
                    opened.setdefault(where, []).append(one.seconds)
                    received.setdefault(where, []).append((one.frames, one.bytes))
                    # Key presses are timed on a kernel that has run every cell: a press made
                    # while a cell still runs waits for it (the first response includes that).
                    one.wait_until_run()
                    keys.setdefault(where, []).extend(_presses(one.page, kind, args.presses))
                except Exception as exc:  # noqa: BLE001 - report it, measure the rest
                    failures[where] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                finally:
                    if context is not None:
                        context.close()

    print(
        f"headless chromium; {args.opens} opening(s) and {args.presses} key presses per "
        f"notebook and server; medians. Shared 2-core machine: figures are noisy."
    )
    print("first response: the RPS readout (tutorial), the chart marker (bare).")
    print(f"{'':<42}{'tutorial':>10}{'bare':>10} {'':<3}{'ratio':>8}")
    for server_name in servers:
        tut = opened.get((server_name, "tutorial"), [])
        bare = opened.get((server_name, "bare"), [])
        print(_row(f"{server_name}: open -> first response", _median(tut), _median(bare), "s"))
    print("open -> first response, median (min-max) of the openings; paired: each round's ratio")
    for server_name in servers:
        tut = opened.get((server_name, "tutorial"), [])
        bare = opened.get((server_name, "bare"), [])
        print(
            f"  {server_name}: tutorial {_spread(tut)}, bare {_spread(bare)}, "
            f"paired ratio {_spread(paired_ratios(tut, bare), 'x')} over {len(tut)} round(s)"
        )
    if translated:
        print("open -> first response per language, median (min-max); paired: each round's "
              "ratio to the English tutorial's opening")
        for server_name in servers:
            english = opened.get((server_name, "tutorial"), [])
            print(f"  {server_name}: en {_spread(english)}")
            for name in translated:
                times = opened.get((server_name, name), [])
                print(
                    f"  {server_name}: {_lang_of(name)} {_spread(times)}, paired "
                    f"ratio to en {_spread(paired_ratios(times, english), 'x')} over "
                    f"{len(times)} round(s)"
                )
    print("websocket frames received before the first response (median frames, MB)")
    for server_name in servers:
        for name in notebooks:
            got = received.get((server_name, name), [])
            if got:
                frames = _median([float(f) for f, _ in got])
                megabytes = _median([b / 1e6 for _, b in got])
                print(f"  {server_name}/{name}: {frames:.0f} frames, {megabytes:.2f} MB")
    for server_name in servers:
        tut = keys.get((server_name, "tutorial"), [])
        bare = keys.get((server_name, "bare"), [])
        readout, tut_marker = _series(tut, 0), _series(tut, -1)
        bare_marker = _series(bare, -1)
        print(
            _row(
                f"{server_name}: key -> RPS readout (bare: marker)",
                _median(readout),
                _median(bare_marker),
                "ms",
            )
        )
        print(
            _row(
                f"{server_name}: key -> chart marker",
                _median(tut_marker),
                _median(bare_marker),
                "ms",
            )
        )
        if translated:
            per_lang = ", ".join(
                f"{_lang_of(name)} {_median(_series(keys.get((server_name, name), []), 0)):.0f}"
                for name in notebooks if name != "bare"
            )
            print(f"  {server_name}: key -> RPS readout per language (median ms): {per_lang}")
        for label, series, total in (
            ("tutorial readout", readout, len(tut)),
            ("tutorial marker", tut_marker, len(tut)),
            ("bare marker", bare_marker, len(bare)),
        ):
            if len(series) < total:
                print(
                    f"  {server_name}: {label} did not change on {total - len(series)} "
                    f"of {total} presses"
                )
    for (server_name, name), why in failures.items():
        print(f"NOT MEASURED {server_name}/{name}: {why}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
