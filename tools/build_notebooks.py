"""Build every notebook in ``notebooks/`` from its MyST markdown source.

The notebooks are build products. Their sources are text files, one per notebook and language,
in MyST markdown as jupytext reads it (``notebooks/src/<lang>/<name>.md``)::

    .venv/bin/python tools/build_notebooks.py          # write every notebook
    .venv/bin/python tools/build_notebooks.py --check  # exit 1 if a committed notebook differs

English (``src/en``) builds to ``notebooks/<name>.ipynb``, where the links and the Binder badges
point; Japanese and Chinese (``src/ja``, ``src/zh``) build to ``notebooks/<lang>/<name>.ipynb``
under the same names. A language with no sources yet is said in one line and skipped; a folder
named for a language orwidgets does not speak is an error.

**Translations follow English** (:func:`drift`, run by ``--check`` and by ``tests/notebooks``):
a translation has every notebook English has, every cell under the same id, kind and order (it may
add markdown cells, never code cells), the same cell metadata, every ``{{ placeholder }}`` and
heading of each English markdown cell, and each code cell identical to English's except for
comments, docstrings and printed text: the string literals inside ``print(...)``, the literal text
of f-strings (their ``{fields}`` stay, in any order), the strings joined to them with ``+``, plus
an ``orwidgets.set_language("<lang>")`` line and ``import orwidgets`` [inv]. Every widget
constructor English calls is called. Relative links must resolve from ``notebooks/<lang>/``
(``../../docs/...``).

What a source may contain:

- **Cell ids.** Every cell names its id, which becomes the ``.ipynb`` cell id: a markdown cell
  starts with ``+++ {"id": "faq"}``, a code cell has the option ``:id: setup``. Ids are stable:
  tests, browser tests and the comparison of languages find cells by them.
- **Placeholders** in markdown cells: ``{{ daily_low }}`` (MyST's substitution syntax) is filled
  from :func:`prose_values`, i.e. from ``orwidgets.policy``, so prose and code cannot disagree;
  ``tests/notebooks`` fails when prose types a rule's number itself. Single braces (JSON in a
  code span) need no doubling. Code cells are copied as they are: they compute their numbers at
  run time through the public API.
- **Dollar signs** in markdown are written ``\\$``: a pair of bare ``$`` renders as LaTeX (see
  :func:`dollars_as_text`); the build refuses a bare one.

Committed notebooks carry no outputs and no widget state (an executed FigureWidget adds megabytes).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
SOURCE_DIR = NOTEBOOK_DIR / "src"
SOURCE_LANGUAGE = "en"  # the language the others are translated from; builds to notebooks/
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))

from orwidgets import policy as P  # noqa: E402
from orwidgets.client import PRESETS  # noqa: E402
from orwidgets.client._retry import DEFAULT_MAX_WAIT_S  # noqa: E402
from orwidgets.i18n import LANGUAGES, N_, Translator, normalize_language  # noqa: E402

__all__ = [
    "Cell",
    "languages",
    "languages_without_sources",
    "drift",
    "sources",
    "read_source",
    "output_path",
    "prose_values",
    "fill_placeholders",
    "dollars_as_text",
    "bare_dollars",
    "render",
    "build_all",
    "main",
]


@dataclass(frozen=True)
class Cell:
    """One cell of a source: ``kind`` is ``"md"`` or ``"code"``; ``id`` is its stable cell id."""

    kind: str
    id: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)


# --- Sources ------------------------------------------------------------------------------------

_CELL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # nbformat 4.5's rule for cell ids


def languages() -> list[str]:
    """The languages that have a source folder, the source language first; ``ValueError`` for a
    folder that is not one of :data:`orwidgets.i18n.LANGUAGES` spelled as it is there."""
    found = sorted(p.name for p in SOURCE_DIR.iterdir() if p.is_dir()) if SOURCE_DIR.is_dir() else []
    for name in found:
        try:
            known = normalize_language(name) == name
        except ValueError:
            known = False
        if not known:
            raise ValueError(
                f"{_shown(SOURCE_DIR / name)}: not a language folder; orwidgets speaks "
                f"{', '.join(LANGUAGES)} (folders named exactly so)"
            )
    return sorted(found, key=lambda lang: lang != SOURCE_LANGUAGE)


def languages_without_sources() -> list[str]:
    """The languages orwidgets speaks that have no notebook source at all yet (the translations
    arrive later: until then they are skipped, and said so)."""
    return [lang for lang in LANGUAGES if not sources(lang)]


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def output_path(lang: str, name: str) -> Path:
    """Where ``<name>.md`` of ``lang`` builds to: ``notebooks/`` for English, else a subfolder."""
    folder = NOTEBOOK_DIR if lang == SOURCE_LANGUAGE else NOTEBOOK_DIR / lang
    return folder / f"{name}.ipynb"


def read_source(path: Path) -> list[Cell]:
    """The cells of one MyST source, each with its explicit id (``ValueError`` if one lacks it)."""
    nb = jupytext.reads(path.read_text(encoding="utf-8"), fmt="myst")
    where = _shown(path)
    cells: list[Cell] = []
    seen: set[str] = set()
    for number, cell in enumerate(nb.cells, 1):
        metadata = dict(cell.metadata)
        cell_id = metadata.pop("id", None)
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id):
            raise ValueError(
                f"{where}: cell {number} ({cell.source[:40]!r}...) needs an explicit id: "
                '`+++ {"id": "some-name"}` before a markdown cell, `:id: some-name` in a code '
                f"cell (letters, digits, - and _), not {cell_id!r}"
            )
        if cell_id in seen:
            raise ValueError(f"{where}: duplicate cell id {cell_id!r}")
        seen.add(cell_id)
        kind = {"markdown": "md", "code": "code"}.get(cell.cell_type)
        if kind is None:
            raise ValueError(f"{where}: cell {cell_id!r} is a {cell.cell_type} cell")
        cells.append(Cell(kind, cell_id, cell.source.strip("\n"), metadata))
    return cells


def sources(lang: str = SOURCE_LANGUAGE) -> dict[str, list[Cell]]:
    """Notebook name (without ``.ipynb``) -> its cells, for every source of ``lang`` (empty when
    the language has none yet)."""
    folder = SOURCE_DIR / lang
    return {path.stem: read_source(path) for path in sorted(folder.glob("*.md"))}


# --- Markdown: placeholders and dollar signs ----------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


def fill_placeholders(text: str, values: dict[str, str], where: str = "markdown") -> str:
    """Replace every ``{{ name }}`` by ``values[name]``; ``ValueError`` for an unknown name or a
    malformed ``{{``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"{where}: unknown placeholder {match.group(0)!r}")
        return values[name]

    filled = _PLACEHOLDER.sub(value, text)
    leftover = _PLACEHOLDER.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise ValueError(f"{where}: a '{{{{' that is not a placeholder like {{{{ daily_low }}}}")
    return filled


# Why dollar signs need care, and why they become <span>&#36;</span>.
#
# Every place the notebooks are read typesets a pair of `$` in a markdown cell as LaTeX:
# JupyterLab 4 and Notebook 7 (marked, after the `removeMath` pass of @jupyterlab/rendermime,
# then MathJax 3 over the rendered DOM), Voila (the same in its page), and GitHub (its markdown math
# and notebook view). A table row `| $0.50 | 1 |` up to the next `$` becomes one formula, and the
# table loses rows. What each renderer honours, tried in headless Chromium on this project's
# versions (JupyterLab 4.6, Notebook 7.6, Voila 0.5) with two amounts in one paragraph:
#
#   `\$5 ... \$10`                            removeMath skips escaped dollars, but marked turns
#                                            them into plain `$`, and MathJax, scanning the page's
#                                            text, typesets `5 ... ` all the same: broken in all three
#   `&#36;5 ... &#36;10`                      the same: the browser decodes the entity before MathJax
#   `<span>$</span>5`                         removeMath still sees the raw `$` pair: broken
#   `<span>&#36;</span>5 ... <span>&#36;</span>10`
#                                            renders `$5 ... $10` as text in all three: no `$` in
#                                            the source for removeMath (or GitHub's parser) to
#                                            pair, and MathJax never pairs delimiters across an
#                                            element boundary. GitHub's own docs advise a span
#                                            around a literal `$` (a backslash does not work there).
#
# So sources write the usual escaped `\$` (readable, and flagged by a test when forgotten) and
# the build turns each into `<span>&#36;</span>`; code spans and fenced code keep their `$`
# (no renderer typesets code). The README, read on GitHub as it is, spells the span out itself.
DOLLAR_AS_TEXT = "<span>&#36;</span>"

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _text_segments(markdown: str) -> Iterator[tuple[bool, str]]:
    """Split ``markdown`` into (is_code, piece) runs: fenced blocks and code spans are code."""
    fence: str | None = None
    prose: list[str] = []
    for line in markdown.splitlines(keepends=True):
        if fence is None:
            opened = _FENCE.match(line)
            if opened:
                yield from _inline_segments("".join(prose))
                prose, fence = [], opened.group(1)
                yield True, line
            else:
                prose.append(line)
            continue
        yield True, line
        closing = line.strip()
        if len(line) - len(line.lstrip(" ")) <= 3 and len(closing) >= len(fence):
            if set(closing) == {fence[0]}:
                fence = None
    yield from _inline_segments("".join(prose))


def _inline_segments(text: str) -> Iterator[tuple[bool, str]]:
    """Code spans (a run of N backticks up to the next run of exactly N) versus the rest."""
    pos = 0
    for run in re.finditer(r"(?<!\\)`+", text):
        if run.start() < pos:
            continue
        closing = re.compile(r"(?<!`)" + run.group(0) + r"(?!`)")
        end = closing.search(text, run.end())
        if end is None:
            continue
        yield False, text[pos : run.start()]
        yield True, text[run.start() : end.end()]
        pos = end.end()
    yield False, text[pos:]


def _dollars(piece: str) -> Iterator[tuple[int, bool]]:
    """(index, escaped) of every `$` in a prose piece, honouring backslash escapes."""
    i = 0
    while i < len(piece):
        if piece[i] == "\\" and i + 1 < len(piece):
            if piece[i + 1] == "$":
                yield i + 1, True
            i += 2
            continue
        if piece[i] == "$":
            yield i, False
        i += 1


def bare_dollars(markdown: str) -> list[str]:
    """The unescaped `$` outside code in ``markdown``, each shown in its line (empty: none)."""
    found = []
    for is_code, piece in _text_segments(markdown):
        if is_code:
            continue
        for index, escaped in _dollars(piece):
            if not escaped:
                start = piece.rfind("\n", 0, index) + 1
                end = piece.find("\n", index)
                found.append(piece[start : end if end >= 0 else None].strip())
    return found


def dollars_as_text(markdown: str, where: str = "markdown") -> str:
    """Every escaped ``\\$`` outside code becomes :data:`DOLLAR_AS_TEXT`, so no renderer can pair
    two of them into LaTeX; an unescaped ``$`` outside code is a ``ValueError``."""
    bare = bare_dollars(markdown)
    if bare:
        raise ValueError(f"{where}: write a dollar sign as \\$ (it would render as math): {bare}")
    out = []
    for is_code, piece in _text_segments(markdown):
        if is_code:
            out.append(piece)
            continue
        last = 0
        for index, _ in _dollars(piece):
            out.append(piece[last : index - 1])  # drop the backslash
            out.append(DOLLAR_AS_TEXT)
            last = index + 1
        out.append(piece[last:])
    return "".join(out)


def md_escape(text: str) -> str:
    """Plain text from ``orwidgets.policy`` (a version's summary) made safe for markdown."""
    return text.replace("$", "\\$")


# --- Values the prose may use -------------------------------------------------------------------
#
# Each generated block takes the notebook's language: its headers and labels go through
# ``Translator(lang)`` (English until a catalogue translates them), while the values come from
# ``orwidgets.policy`` as they are.


def _q(text: str) -> str:
    """A message as an inline code span with its quotes, so trailing spaces stay visible."""
    return f'`"{text}"`'


def _money(usd: float) -> str:
    """``\\$0.50``, ``\\$1,000``: markdown, dollar escaped (see :func:`dollars_as_text`)."""
    amount = abs(usd)
    digits = f"{amount:,.2f}" if amount != int(amount) else f"{int(amount):,}"
    return ("-" if usd < 0 else "") + "\\$" + digits


def _rps_examples_table(_: Translator) -> str:
    """The spec's worked examples of the article's rule, computed by the policy functions."""
    version = P.get_policy(P.DEFAULT_POLICY_ID)
    headers = [_("balance"), _("paid RPS"), _("rule")]  # not inside an f-string: Babel skips those
    rows = ["| " + " | ".join(headers) + " |", "|---:|---:|---|"]
    for balance in (0.5, 1, 1.2, 5, 10, 499.01, 500, 1000):
        answer = P.explain_paid_rps(balance, version, lang=_.lang)
        rows.append(f"| {_money(balance)} | {answer.rps} | {answer.rule_text} |")
    return "\n".join(rows)


def _daily_text(version: P.PolicyVersion, _: Translator) -> str:
    if not version.has_topup_tier:
        return _("{low} for everyone").format(low=f"{version.free_daily_low:,}")
    return _("{low}; {high} from {threshold} credits purchased").format(
        low=f"{version.free_daily_low:,}",
        high=f"{version.free_daily_high:,}",
        threshold=f"{P.free_daily_grant_from(version):g}",
    )


def _paid_text(version: P.PolicyVersion, _: Translator) -> str:
    if not version.paid_rps_linked:
        return _("no platform request cap")
    return _("RPS = balance in USD rounded up, at least {min}, at most {cap}").format(
        min=version.paid_rps_min, cap=version.paid_rps_cap
    )


def _timeline_table(_: Translator) -> str:
    headers = [
        _("version"), _("in force"), _("free per minute"), _("free per day"), _("paid models"),
        _("`GET /key` shape"), _("`GET /credits`"),
    ]  # fmt: skip
    rows = ["| " + " | ".join(headers) + " |", "|---|---|---:|---|---|---|---|"]
    for version in P.POLICIES.values():
        shown = f"`{version.id}`"
        if version.id == P.DEFAULT_POLICY_ID:
            shown = _("{version} (the article; default here)").format(version=shown)
        credits = (
            _("management key only") if version.credits_requires_management else _("any key")
        )
        rows.append(
            f"| {shown} | {_(version.in_force_text)} | {version.free_per_minute} | "
            f"{_daily_text(version, _)} | {_paid_text(version, _)} | {version.key_shape} | "
            f"{credits} |"
        )
    return "\n".join(rows)


#: The fields the list of differences compares, with their labels (translated when shown).
_FIELD_NAMES = {
    "free_per_minute": N_("free-model requests per minute"),
    "free_daily_low": N_("free-model requests per day (without top-up)"),
    "free_daily_high": N_("free-model requests per day after topping up"),
    "topup_threshold_usd": N_("credits purchased that unlock the higher tier"),
    "free_grant_from_usd": N_("credits purchased from which the higher tier is granted"),
    "paid_rps_linked": N_("paid RPS follows the balance"),
    "in_flight_budget": N_("paid requests held against an in-flight spending budget"),
    "credit_402_metadata": N_("`402` answers carry `limit_source` and `remedy_hint`"),
    "key_shape": N_("`GET /api/v1/key` answer shape"),
    "credits_requires_management": N_("`GET /api/v1/credits` needs a management key"),
    "no_auth_message": N_("`401` message without a key"),
}
#: How a field shows ``None``, where "none" would mislead.
_NONE_SHOWN = {"free_grant_from_usd": N_("as the threshold")}


def _show(value: Any, _: Translator, none: str = N_("none")) -> str:
    if value is None:
        return _(none)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if " " in value:  # a message: quoted as it goes over the wire
        return _q(value)
    return str(value)


def _version_block(version: str, after: P.PolicyVersion, _: Translator) -> str:
    """``**`2025-04`**, in force <period>. <what changed>``, in the notebook's language."""
    return _("{version}, in force {period}. {changes}").format(
        version=f"**{version}**", period=_(after.in_force_text), changes=md_escape(_(after.changes))
    )


def _differences(_: Translator) -> str:
    """Every field that changes from one version to the next, with the version's own summary."""
    versions = list(P.POLICIES.values())
    first = versions[0]
    blocks = [_version_block(f"`{first.id}`", first, _)]
    for before, after in zip(versions, versions[1:]):
        step = _("{before} -> {after}").format(before=f"`{before.id}`", after=f"`{after.id}`")
        lines = [_version_block(step, after, _), ""]
        for name, label in _FIELD_NAMES.items():
            old, new = getattr(before, name), getattr(after, name)
            if old != new:
                none = _NONE_SHOWN.get(name, N_("none"))
                change = _("{field}: {old} -> {new}").format(
                    field=_(label), old=_show(old, _, none), new=f"**{_show(new, _, none)}**"
                )
                lines.append(f"- {change}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _livecalls_presets(_: Translator) -> str:
    return "\n".join(f"- *{md_escape(_(preset.label))}*" for preset in PRESETS)


def _in_flight_values() -> dict[str, str]:
    """Today's numbers (section 11): the in-flight budget's (ours, [inv], but Retry-After), the
    capacity 429's default wait, the retry helper's longest wait, and the 2026 wire texts."""
    f, m = P.IN_FLIGHT_DEFAULTS, P.MESSAGES
    return {
        "if_fraction": f"{f.fraction:g}",
        "if_ceiling": _money(f.ceiling_usd),
        "if_threshold": _money(f.threshold_usd),
        "if_settle": f"{f.settle_s:g}",
        "if_cap": f"{f.completion_cap_tokens:,}",
        "if_retry_after": f"{f.retry_after_s:,}",
        "capacity_retry_after": f"{P.CAPACITY_RETRY_AFTER_S:,}",
        "max_wait": f"{DEFAULT_MAX_WAIT_S:g}",
        "msg_in_flight": _q(m.in_flight),
        "msg_weight": _q(m.weight_exceeds_budget),
        "src_in_flight": f"`{P.LimitSource.IN_FLIGHT.value}`",
        "src_credits": f"`{P.LimitSource.CREDITS.value}`",
        "src_key_limit": f"`{P.LimitSource.KEY_LIMIT.value}`",
    }


def prose_values(lang: str = SOURCE_LANGUAGE) -> dict[str, str]:
    """Everything a markdown cell may name as ``{{ name }}``, read from ``orwidgets.policy``.

    Generated blocks (tables, lists) label their headers in ``lang``."""
    _ = Translator(lang)
    default = P.get_policy(P.DEFAULT_POLICY_ID)
    current = P.get_policy(P.CURRENT_ALIAS)
    legacy = P.get_policy("legacy-2024")
    versions = list(P.POLICIES.values())
    no_cap = next(v for v in versions if not v.paid_rps_linked)  # paid RPS cap dropped
    counter = next(v for v in versions if v.key_shape == "2026")  # free requests left, in /key
    m = P.MESSAGES
    return {
        "per_minute": f"{P.FREE_PER_MINUTE:,}",
        "daily_legacy": f"{P.FREE_DAILY_LEGACY:,}",
        "daily_low": f"{P.FREE_DAILY_LOW:,}",
        "daily_high": f"{P.FREE_DAILY_HIGH:,}",
        "threshold": f"{P.TOPUP_THRESHOLD_USD:g}",
        "rps_min": f"{P.PAID_RPS_MIN:,}",
        "rps_cap": f"{P.PAID_RPS_CAP:,}",
        "default_id": default.id,
        "default_period": _(default.in_force_text),
        "current_id": current.id,
        "legacy_id": legacy.id,
        "version_list": ", ".join(f"`{v.id}`" for v in versions),
        "no_cap_id": no_cap.id,
        "no_cap_period": _(no_cap.in_force_text),
        "counter_id": counter.id,
        "counter_period": _(counter.in_force_text),
        "grant_from": f"{P.free_daily_grant_from(current):g}",
        "credits_url": P.CREDITS_URL,
        "msg_per_minute": _q(m.free_per_minute),
        "msg_per_day_low": _q(m.free_per_day_low),
        "msg_per_day_high": _q(m.free_per_day_high),
        "msg_paid_rate": _q(m.paid_rate),
        "msg_negative": _q(m.negative_balance),
        "msg_upstream": _q(m.upstream),
        "msg_affordability": _q(P.affordability_message(4096, 1234).split(". You")[0] + "."),
        "src_per_minute": f"`{P.LimitSource.FREE_PER_MINUTE.value}`",
        "src_daily": f"`{P.LimitSource.FREE_DAILY.value}`",
        "src_paid_rate": f"`{P.LimitSource.PAID_RATE.value}`",
        "src_upstream": f"`{P.LimitSource.UPSTREAM.value}`",
        **_in_flight_values(),
        "livecalls_presets": _livecalls_presets(_),
        "rps_examples": _rps_examples_table(_),
        "timeline": _timeline_table(_),
        "differences": _differences(_),
    }


# --- Translations follow English (drift) ---------------------------------------------------------

_KIND = {"md": "markdown", "code": "code"}
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s", re.MULTILINE)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_TEXT = "…"  # what printed text becomes before code cells are compared


def _prose(markdown: str) -> str:
    return "".join(piece for is_code, piece in _text_segments(markdown) if not is_code)


def _headings(markdown: str) -> list[int]:
    return [len(m.group(1)) for m in _HEADING.finditer(_prose(markdown))]


class _CodeShape(ast.NodeTransformer):
    """A code cell as the comparison sees it: printed text, f-string text, docstrings and the
    language's own ``set_language`` / ``import orwidgets`` lines taken out."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.text = 0  # > 0 inside print(...) or a "+" chain that joins strings

    def _body(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        kept = []
        for statement in statements:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and \
                    isinstance(statement.value.value, str):
                continue  # a docstring or a bare string: a comment
            if self._language_line(statement):
                continue
            kept.append(self.visit(statement))
        return kept

    def _language_line(self, statement: ast.stmt) -> bool:
        if isinstance(statement, ast.Import):
            return [(a.name, a.asname) for a in statement.names] == [("orwidgets", None)]
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            return False
        call = statement.value
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        if name != "set_language" or len(call.args) != 1 or call.keywords:
            return False
        arg = call.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            return False
        try:
            return normalize_language(arg.value) == self.lang
        except ValueError:
            return False

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in ("body", "orelse", "finalbody"):
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, name, self._body(value))
        return super().generic_visit(node)

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._body(node.body)
        return node

    def _as_text(self, node: ast.AST, is_text: bool) -> ast.AST:
        """Visit ``node``; when ``is_text``, its string literals are the language's."""
        self.text += is_text
        try:
            return self.generic_visit(node)
        finally:
            self.text -= is_text

    def visit_Call(self, node: ast.Call) -> ast.AST:
        return self._as_text(node, getattr(node.func, "id", None) == "print")

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        return self._as_text(node, isinstance(node.op, ast.Add) and _joins_text(node))

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.text and isinstance(node.value, str):
            return ast.copy_location(ast.Constant(_TEXT), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        fields = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                shown = ast.unparse(self.visit(part.value))
                if part.conversion != -1:
                    shown += "!" + chr(part.conversion)
                if part.format_spec is not None:
                    shown += ":" + ast.unparse(part.format_spec)
                fields.append(shown)
        # its text is the language's; its fields stay, in whatever order the sentence needs
        return ast.copy_location(ast.Constant(f"f{_TEXT}{{{', '.join(sorted(fields))}}}"), node)


def _joins_text(node: ast.AST) -> bool:
    """Whether a ``+`` chain has a string in it: ``f"{n} call" + ("s" if n != 1 else "")``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _joins_text(node.left) or _joins_text(node.right)
    if isinstance(node, ast.IfExp):
        return _joins_text(node.body) or _joins_text(node.orelse)
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _python(source: str) -> str:
    """A cell's IPython (``%magic``, ``!shell``) as plain Python, when IPython is installed."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - the lab extra brings IPython
        return source
    return TransformerManager().transform_cell(source)


def code_shape(source: str, lang: str = SOURCE_LANGUAGE) -> str:
    """``source`` with what a translation may change taken out (``SyntaxError`` if it does not
    parse): two cells that agree here do the same thing."""
    tree = ast.parse(_python(source))
    return ast.unparse(_CodeShape(lang).visit(tree))


def _widget_names() -> frozenset[str]:
    import ipywidgets

    from orwidgets import widgets

    def is_widget(obj: object) -> bool:
        return isinstance(obj, type) and issubclass(obj, ipywidgets.Widget)

    ours = {name for name in widgets.__all__ if is_widget(getattr(widgets, name))}
    theirs = {name for name in dir(ipywidgets) if is_widget(getattr(ipywidgets, name))}
    return frozenset(ours | theirs)


def widget_calls(cells: list[Cell]) -> Counter:
    """How often the code cells call each widget constructor (ours and ipywidgets')."""
    names = _widget_names()
    calls: Counter = Counter()
    for cell in cells:
        if cell.kind != "code":
            continue
        try:
            tree = ast.parse(_python(cell.source))
        except SyntaxError:
            continue  # drift() reports it
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in names:
                    calls[name] += 1
    return calls


def _first_difference(english: str, translated: str) -> str:
    """The first place two code shapes part: ``English 'a = 1', here 'a = 2'``."""
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.unified_diff(english.splitlines(), translated.splitlines(), lineterm="",
                                     n=0):
        if line.startswith("@@"):
            if removed or added:
                break
        elif line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:].strip())
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:].strip())
    return (f"English {removed[0] if removed else 'nothing'!r}, "
            f"here {added[0] if added else 'nothing'!r}")


def _notebook_drift(name: str, english: list[Cell], translated: list[Cell], lang: str) -> list[str]:
    where = f"src/{lang}/{name}.md"
    theirs = {cell.id: cell for cell in translated}
    found = []
    for cell in english:
        other = theirs.get(cell.id)
        if other is None:
            found.append(f"{where}: lacks the {_KIND[cell.kind]} cell {cell.id!r}")
        elif other.kind != cell.kind:
            found.append(f"{where}: cell {cell.id!r} is {_KIND[other.kind]}, English has "
                         f"{_KIND[cell.kind]}")
    ours = {cell.id for cell in english}
    found += [f"{where}: code cell {cell.id!r} is not in English (a translation adds no code)"
              for cell in translated if cell.kind == "code" and cell.id not in ours]
    common = [cell.id for cell in translated if cell.id in ours]
    expected = [cell.id for cell in english if cell.id in theirs]
    if common != expected:
        first = next(i for i, (a, b) in enumerate(zip(common, expected)) if a != b)
        found.append(f"{where}: cells out of English's order: {common[first]!r} where English has "
                     f"{expected[first]!r}")
    for cell in english:
        other = theirs.get(cell.id)
        if other is None or other.kind != cell.kind:
            continue
        if other.metadata != cell.metadata:
            found.append(f"{where}: cell {cell.id!r} metadata {other.metadata} differs from "
                         f"English's {cell.metadata}")
        if cell.kind == "md":
            missing = sorted(set(_PLACEHOLDER.findall(cell.source))
                             - set(_PLACEHOLDER.findall(other.source)))
            if missing:
                found.append(f"{where}: cell {cell.id!r} lacks "
                             + ", ".join(f"{{{{ {m} }}}}" for m in missing))
            if _headings(other.source) != _headings(cell.source):
                found.append(f"{where}: cell {cell.id!r} has headings {_headings(other.source)} "
                             f"(levels), English {_headings(cell.source)}")
            continue
        try:
            shape = code_shape(other.source, lang)
        except SyntaxError as exc:
            found.append(f"{where}: code cell {cell.id!r} does not parse: {exc.msg} "
                         f"(line {exc.lineno})")
            continue
        english_shape = code_shape(cell.source)
        if shape != english_shape:
            found.append(f"{where}: code cell {cell.id!r} differs from English beyond comments "
                         f"and printed text: {_first_difference(english_shape, shape)}")
    english_calls, their_calls = widget_calls(english), widget_calls(translated)
    for widget, count in sorted(english_calls.items()):
        if their_calls[widget] < count:
            found.append(f"{where}: calls {widget} {their_calls[widget]} time(s), English "
                         f"{count}")
    return found


def _broken_links(lang: str, name: str, cells: list[Cell]) -> list[str]:
    folder = output_path(lang, name).parent
    found = []
    for cell in cells:
        if cell.kind != "md":
            continue
        for link in _LINK.findall(_prose(cell.source)):
            target = link.split("#")[0]
            # lexically: notebooks/<lang>/ may not be built yet
            if target and not re.match(r"[a-z][a-z0-9+.-]*:", target) and \
                    not Path(os.path.normpath(folder / target)).exists():
                found.append(f"src/{lang}/{name}.md: cell {cell.id!r} links to {link}, which "
                             f"does not exist from {_shown(folder)}/")
    return found


def drift(lang: str) -> list[str]:
    """Where ``lang``'s sources fall behind English, one line each (empty: none, or no sources
    yet: see :func:`languages_without_sources`)."""
    theirs = sources(lang)
    if not theirs or lang == SOURCE_LANGUAGE:
        return []
    english = sources(SOURCE_LANGUAGE)
    found = [f"src/{lang}: lacks {name}.md (English has it)" for name in english
             if name not in theirs]
    found += [f"src/{lang}/{name}.md: no English source has this name" for name in theirs
              if name not in english]
    for name, cells in theirs.items():
        if name in english:
            found += _notebook_drift(name, english[name], cells, lang)
        found += _broken_links(lang, name, cells)
    return found


# --- Notebooks ----------------------------------------------------------------------------------

_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def render(
    cells: list[Cell], values: dict[str, str] | None = None, where: str = "notebook"
) -> nbformat.NotebookNode:
    """One notebook from its cells: placeholders filled, no outputs, the sources' cell ids."""
    values = prose_values() if values is None else values
    nb = new_notebook(metadata=_METADATA)
    for cell in cells:
        here = f"{where}:{cell.id}"
        if cell.kind == "md":
            source = dollars_as_text(fill_placeholders(cell.source, values, here), here)
            nb.cells.append(new_markdown_cell(source, id=cell.id, metadata=dict(cell.metadata)))
        elif cell.kind == "code":
            nb.cells.append(new_code_cell(cell.source, id=cell.id, metadata=dict(cell.metadata)))
        else:
            raise ValueError(f"{here}: unknown kind {cell.kind!r}")
    nbformat.validate(nb)
    return nb


def build_all() -> dict[Path, str]:
    """Output path -> the exact text of that notebook file, for every language and source."""
    built: dict[Path, str] = {}
    for lang in languages():
        values = prose_values(lang)
        for name, cells in sources(lang).items():
            where = f"src/{lang}/{name}.md"
            built[output_path(lang, name)] = nbformat.writes(render(cells, values, where)) + "\n"
    return built


def _committed() -> list[Path]:
    """The notebooks in the output folders now (to find ones no source builds any more)."""
    folders = [NOTEBOOK_DIR] + [NOTEBOOK_DIR / lang for lang in LANGUAGES]
    return sorted({p for folder in folders if folder.is_dir() for p in folder.glob("*.ipynb")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a notebook is out of date or a translation drifts")
    args = parser.parse_args(argv)
    try:
        built = build_all()
        drifted = [line for lang in languages() for line in drift(lang)]
        waiting = languages_without_sources()
    except ValueError as exc:  # a source error: one clear line, no traceback
        print(f"build_notebooks: {exc}", file=sys.stderr)
        return 2
    if waiting:
        print(f"build_notebooks: no sources yet for {', '.join(waiting)} "
              f"({', '.join(f'notebooks/src/{lang}/' for lang in waiting)}): nothing to build "
              "for them")
    stale = []
    for path, text in built.items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    orphans = [str(p.relative_to(ROOT)) for p in _committed() if p not in built]
    if orphans:
        print("no source builds these (delete them or add a source): " + ", ".join(orphans),
              file=sys.stderr)
    if stale:
        print("out of date (run tools/build_notebooks.py): " + ", ".join(stale), file=sys.stderr)
    for line in drifted:
        print(f"drift: {line}", file=sys.stderr)
    return 1 if stale or orphans or drifted else 0


if __name__ == "__main__":
    raise SystemExit(main())
