"""Snapshots of the workbench after a finished run of lesson 1 (deterministic), at 80x24 and 120x40.

After a deliberate change of the layout: pytest tests/test_snapshots.py --snapshot-update, then look
at the SVGs in tests/__snapshots__ before committing them.
"""

import pytest

from labapp.app import LabApp
from tests.test_app import press_run, until


async def finished_run(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.torch_state == "ready")
    await pilot.press("enter")  # open the highlighted lesson: 1, linear-model
    await pilot.pause()
    await press_run(pilot)
    await until(pilot, lambda: app.active is None and app.traces.get("linear-model"))
    app.message = ""  # it names the run's folder, which has the time in it
    app._tick()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_a_finished_run(snap_compare, size):
    assert snap_compare(LabApp(lang="en"), terminal_size=size, run_before=finished_run)
