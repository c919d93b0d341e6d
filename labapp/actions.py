"""The workbench's actions, declared once: their keys feed the bindings, the key bar, the command
palette and the buttons (after harlequin's actions.py). Plain data, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass

from labapp.strings import say


@dataclass(frozen=True)
class Action:
    """One thing the user can do: `action` is the app's `action_<name>` (with its arguments)."""

    name: str  # the catalogue key of its label; `<name> about` says what it does
    action: str
    keys: str  # Textual key names, comma-separated; the first is the one shown
    shown: bool = True  # in the key bar (when there is room: the first ones first)
    palette: bool = True
    priority: bool = False  # works even while a field has focus

    @property
    def key(self) -> str:
        """The key as shown to the user."""
        first = self.keys.split(",")[0]
        return {"ctrl+c": "^c", "escape": "Esc"}.get(first, first)

    @property
    def target(self) -> str:
        """The action as a click or a button names it: `app.run`, `screen.zoom`."""
        return self.action if "." in self.action else f"app.{self.action}"

    def label(self, lang: str) -> str:
        """Its short name in `lang` (footer, buttons)."""
        return say(self.name, lang)

    def about(self, lang: str) -> str:
        """What it does, in `lang` (the palette)."""
        return say(f"{self.name} about", lang)


ACTIONS: tuple[Action, ...] = (
    Action("run", "run", "r"),
    Action("stop", "stop", "s"),
    Action("step", "step", "t"),
    Action("panel", "screen.next_panel", "n"),
    Action("zoom", "screen.zoom", "f"),
    Action("lessons", "flip('sidebar')", "b"),
    Action("lang", "toggle_lang", "z"),
    Action("messages", "screen.messages", "m"),
    Action("log", "flip('log_scale')", "g"),
    Action("earlier", "flip('earlier')", "o"),
    Action("reset", "reset", "x"),
    Action("defaults", "screen.defaults", "d"),
    Action("screenshot", "screen.screenshot", "p"),
    Action("save code", "screen.save_code", "w"),
    Action("copy", "screen.copy_path", "y", shown=False),
    Action("resume", "resume", "c", shown=False),
    Action("export", "screen.export_run", "e", shown=False),
    Action("quit", "quit", "q"),
    # priority: heard as it comes, before the keys after it; a field's own keys are heard only once they have
    # bubbled up to the app, after the letters typed next (which the field then took)
    Action("leave field", "screen.leave_field", "escape", shown=False, palette=False, priority=True),
)
BY_NAME = {action.name: action for action in ACTIONS}

# Keys beside the table: F5/F6/F7 and ctrl+c work from inside a field too; digits pick tabs and panels. Tab and
# shift+Tab (Textual's screen binds them too) are heard as they come: the keys typed next go to the next field.
EXTRA_KEYS: tuple[tuple[str, str], ...] = (("f5", "run"), ("f6", "stop"), ("f7", "step"), ("ctrl+c", "quit"),
                                           ("tab", "focus_next"), ("shift+tab", "focus_previous"))
TABS = ("learn", "train", "code")  # keys 1, 2, 3
PANEL_KEYS = "456789"  # the Train tab's charts, then results, a classifier's mistakes, then runs


def key_table() -> list[tuple[str, str, str, bool]]:
    """(keys, action, description, priority) of every binding: the table, the extra keys, tabs and panels; and alt+K
    for each letter key K, which is what Textual hears when Escape and K arrive together (typed fast, or read
    late under load): Escape, then K, even from inside a field."""
    rows = [(a.keys, a.action, a.name, a.priority) for a in ACTIONS]
    rows += [(f"alt+{a.keys}", f"screen.escape_then('{a.keys}')", "leave field", True) for a in ACTIONS if a.keys.isalpha()]
    rows += [(key, action, action, True) for key, action in EXTRA_KEYS]
    rows += [(str(n), f"screen.tab('{tab}')", tab, False) for n, tab in enumerate(TABS, 1)]
    return rows + [(key, f"screen.panel({n})", "panel", False) for n, key in enumerate(PANEL_KEYS)]
