"""The status line: what the workbench is doing now, always visible."""

from __future__ import annotations

from rich.text import Text as RichText
from textual.widgets import Static

from labapp.report import number
from labapp.traces import RunTrace

STYLES = {"idle": "dim", "loading torch": "yellow", "waiting for torch": "yellow", "starting": "yellow",
          "running": "bold green", "finished": "bold cyan", "stopped": "bold yellow",
          "diverged": "bold red", "failed": "bold red"}


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss past an hour."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def speed(rate: float) -> str:
    """A rate in few characters: 0.52, 12.3, 410, 35.9k."""
    return f"{rate / 1000:.3g}k" if rate >= 1000 else f"{rate:.3g}"


class StatusLine(Static):
    """State, progress, timing, speed, device and the latest loss and accuracy; then a message line.

    Its height is fixed (two lines, no wrapping), so that an update repaints this line only and
    never lays out the screen again: it changes several times a second while training.
    """

    _shown: RichText | None = None

    def show(self, state: str, trace: RunTrace | None, device: str, message: str = "") -> None:
        """Redraw from the current state and run (if any)."""
        line = RichText()
        line.append(f"● {state}", style=STYLES.get(state, "bold"))
        parts: list[str] = []
        if trace is not None:
            parts.append(trace.lesson.id)
            if trace.total:
                parts.append(f"{trace.lesson.unit} {trace.epoch}/{trace.total}")
            timing = clock(trace.elapsed)
            eta = trace.eta()
            if eta is not None:
                timing += f" eta {clock(eta)}"
            parts.append(timing)
            if trace.running and trace.rate() > 0:
                parts.append(f"{speed(trace.rate())} {trace.lesson.unit}/s")
            parts.append(trace.device or device)
            latest = trace.latest.get("test", {}) | trace.latest.get("train", {})
            for name in ("loss", "cost", "mse", "accuracy"):
                if name in latest:
                    value = latest[name]
                    shown = f"{value:.1%}" if name == "accuracy" and 0 <= value <= 1 else number(value)
                    parts.append(f"{name} {shown}")
        else:
            parts.append(device)
        line.append(" " + " · ".join(parts))
        line.append("\n" + message, style="italic")
        if line != self._shown:
            self._shown = line
            self.update(line, layout=False)
