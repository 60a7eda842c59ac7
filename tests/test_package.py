"""The package surface: cheap import, every public name resolves, keys stay secret."""

from __future__ import annotations

import pathlib
import pickle
import subprocess
import sys

import pytest

import orwidgets
from orwidgets._secret import SecretKey, key_from_env, mask

ROOT = pathlib.Path(__file__).resolve().parents[1]
KEY = "sk-or-v1-" + "ab12" * 16


def test_import_is_cheap_heavy_modules_load_on_first_use():
    code = (
        "import sys, orwidgets; "
        "heavy = [m for m in ('plotly', 'ipywidgets', 'uvicorn', 'starlette', 'httpx') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_name_resolves():
    missing = [name for name in orwidgets.__all__ if not hasattr(orwidgets, name)]
    assert missing == []


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        orwidgets.no_such_thing  # noqa: B018


def test_package_is_typed():
    assert (ROOT / "orwidgets" / "py.typed").exists()


def test_secret_key_never_shows_its_value():
    secret = SecretKey(KEY)
    for text in (repr(secret), str(secret), f"{secret}", repr([secret]), secret.masked):
        assert KEY not in text
    assert secret.masked == "sk-or-v1-ab1...b12"
    assert secret.reveal() == KEY


def test_secret_key_refuses_pickling():
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(SecretKey(KEY))


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_secret_key_rejects_empty_or_non_string_values(bad):
    with pytest.raises(ValueError, match="api_key"):
        SecretKey(bad)


def test_mask_never_reveals_more_than_six_characters():
    assert mask(None) == "<no key>"
    assert mask("short") == "<hidden key>"
    assert mask(KEY).count("ab12") == 0


def test_key_from_env(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", f"  {KEY}\n")
    assert key_from_env().reveal() == KEY
    monkeypatch.setenv("OPENROUTER_API_KEY", "")
    assert key_from_env() is None


def test_cli_help_and_unknown_command():
    ok = subprocess.run([sys.executable, "-m", "orwidgets", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "orwidgets emulator" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "orwidgets", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'nope'" in bad.stderr


def test_readme_pictures_exist_and_stay_small():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"\]\((docs/img/[^)]+\.png)\)", readme)
    assert len(pictures) == 7  # one per widget of the tutorial, and RPSExplorer under 2026-08
    for picture in pictures:
        path = ROOT / picture
        assert path.exists(), picture
        assert path.stat().st_size < 150_000, picture
