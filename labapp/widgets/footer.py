"""Textual's Footer, without the memory it keeps of every key it ever showed.

Footer rebuilds its keys whenever the bindings change (every run starts and ends with such a
change) and binds each new key to its `compact` reactive. Textual drops such a binding only when
`compact` itself changes, so every key ever built stays in memory, about 20 keys and 400 KiB a
run here (Textual issue #6666, open). This Footer forgets the bindings of removed keys first.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer


class LabFooter(Footer):
    """A Footer whose rebuilds release the keys they replace."""

    def compose(self) -> ComposeResult:
        """Forget the removed keys' bindings, then build the keys as Footer does."""
        for watchers in getattr(self, "__watchers", {}).values():  # where Textual's `watch` keeps them
            watchers[:] = [(node, callback) for node, callback in watchers if not (node._closing or node._closed)]
        yield from super().compose()
