"""Key secrecy end to end: a real kernel runs LiveCalls with a key from the environment and a key
typed into the password box (sent as a browser would, over the comm), the notebook is saved with
widget state, and neither key appears in the saved file, the outputs or any log."""

from __future__ import annotations

import json
import logging
import os

import pytest

from client_helpers import requires_emulator

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

pytestmark = [requires_emulator, pytest.mark.slow]

#: Recognisable fake keys (never valid anywhere).
ENV_KEY = "sk-or-v1-" + "5ec2e7e0" * 8
TYPED_KEY = "sk-or-v1-" + "7e57ed01" * 8

CELLS = [
    # 0: a widget that takes its key from OPENROUTER_API_KEY
    "from orwidgets.emulator import start\n"
    "from orwidgets.widgets.livecalls import LiveCalls\n"
    "emu = start(latency_ms=0)\n"
    "env_widget = LiveCalls(emu, real_base_url=emu.api_base)\n"
    "env_widget",
    # 1: a preset, then calls with the key to a loopback 'real' target (the emulator: 401)
    "env_widget.run('21 free calls in one minute', wait=True, timeout=60)\n"
    "print(env_widget.status)\n"
    "env_widget.target = 'openrouter'\n"
    "env_widget.count = 3\n"
    "env_widget.run('custom: the settings below', wait=True, timeout=60)\n"
    "print('ENV', env_widget.has_key, {c.value: n for c, n in env_widget.counts.items()})\n"
    "print(repr(env_widget), env_widget.status)",
    # 2: a widget that ignores the environment: the key comes through the password box
    "typed_widget = LiveCalls(emu, real_base_url=emu.api_base, key_env=None)\n"
    "display(typed_widget)\n"
    "print('KEYBOX=' + typed_widget._key_input.model_id)",
    # 3: (the test has sent the key over the comm in between)
    "print('TYPED', typed_widget.has_key, repr(typed_widget))\n"
    "typed_widget.target = 'openrouter'\n"
    "typed_widget.count = 2\n"
    "typed_widget.run('custom: the settings below', wait=True, timeout=60)\n"
    "print({c.value: n for c, n in typed_widget.counts.items()}, typed_widget.status)\n"
    "typed_widget._key_input.send_state()  # the kernel's view of the box, into the saved state\n"
    "import logging\n"
    "logging.getLogger('orwidgets.test').warning('kernel log line: %r %r', typed_widget, env_widget)",
]


def _stdout(cell) -> str:
    # stdout only: a cell's stderr (the log line) may arrive between two pieces of one print.
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def test_keys_appear_nowhere_in_the_saved_notebook_outputs_or_logs(tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    env = {k: v for k, v in os.environ.items() if k != "OPENROUTER_API_KEY"}
    env.update(OPENROUTER_API_KEY=ENV_KEY, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"), MPLBACKEND="agg")
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     store_widget_state=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=env):
        for index in (0, 1, 2):
            client.execute_cell(nb.cells[index], index)
        box_id = _stdout(nb.cells[2]).split("KEYBOX=", 1)[1].split()[0]
        # What a browser sends when the reader types into the password box.
        msg = client.kc.session.msg("comm_msg", {
            "comm_id": box_id,
            "data": {"method": "update", "state": {"value": TYPED_KEY}, "buffer_paths": []},
        })
        client.kc.shell_channel.send(msg)
        client.execute_cell(nb.cells[3], 3)
        client.set_widgets_metadata()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text(encoding="utf-8")
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records)

    # The keys were really in play: both widgets held one and sent it (the emulator said 401).
    assert "ENV True {'unauthorized': 3}" in _stdout(nb.cells[1])
    assert "TYPED True" in _stdout(nb.cells[3])
    assert "{'unauthorized': 2}" in _stdout(nb.cells[3])
    # The widget state was saved, the password box's value in it empty.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert state[box_id]["state"]["value"] == ""

    outputs = json.dumps([cell.outputs for cell in nb.cells])
    for key in (ENV_KEY, TYPED_KEY):
        for where, text in (("saved notebook", saved), ("outputs", outputs), ("logs", logs),
                            ("kernel stdout", captured.out), ("kernel stderr", captured.err)):
            assert key not in text, f"the key leaked into the {where}"
            assert key[9:] not in text, f"the key's secret part leaked into the {where}"
