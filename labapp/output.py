"""Printing that cannot hurt: text from files and arguments made safe, and a stdout whose failure never fails a run.

`safe(text)` is the one function that everything printed or shown from a file, a record or an
argument goes through: control characters (an escape that sets the window title, clears the
screen or rings the bell) and undecodable bytes come out as visible escapes, never raw.

`GuardedStream` wraps sys.stdout for the headless commands: a write that fails (a closed pipe, a
full disk, a closed descriptor) is remembered instead of raised, so training goes on and is
recorded truthfully; the command then exits the way POSIX tools do (see `exit_code`).
"""

from __future__ import annotations

import errno
import io
import os
import sys
import unicodedata
from collections.abc import Callable
from typing import Any, TextIO

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool that a closed pipe ended
_ESCAPED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def safe(text: Any) -> str:
    """`str(text)` with control characters, lone surrogates and other unprintable code points escaped.

    What is left prints as itself on any terminal and can neither move the cursor nor set a title.
    """
    text = str(text)
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(_escape(ch) if not ch.isprintable() and ch != " " else ch for ch in text)


def _escape(ch: str) -> str:
    if ch in _ESCAPED:
        return _ESCAPED[ch]
    if unicodedata.category(ch) == "Zs":  # a no-break or thin space: printable enough
        return ch
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): shown as that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def fix_std_descriptors() -> None:
    """Open /dev/null on descriptors 0-2 that are closed (`labapp >&-`), so no file labapp opens later takes their place."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:  # a lower descriptor was free too; it is fixed on its own turn
                os.dup2(opened, fd)
                os.close(opened)


def tolerant_encoding(stream: Any) -> None:
    """Make `stream` escape what its encoding cannot say (ascii, LC_ALL=C) instead of raising."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # a stream that is closed or already written through
            pass


class GuardedStream(io.TextIOBase):
    """A text stream over `inner` (None when the descriptor was closed) that remembers the first error of a write.

    After an error nothing more is written. `on_broken_pipe` is called once when the reader went away.
    """

    def __init__(self, inner: TextIO | None, on_broken_pipe: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.error: BaseException | None = None if inner is not None else OSError(errno.EBADF, "stdout is closed")
        self.on_broken_pipe = on_broken_pipe
        self.reported = False  # whether the command has said what the failure cost (then `main` says nothing more)

    @property
    def broken_pipe(self) -> bool:
        """Whether the reader of a pipe went away (`labapp run ... | head -1`)."""
        return isinstance(self.error, BrokenPipeError)

    def writable(self) -> bool:
        """Always: a failed write is remembered, not raised."""
        return True

    def isatty(self) -> bool:
        """Whether the stream underneath is a terminal that still works."""
        try:
            return self.error is None and self.inner is not None and self.inner.isatty()
        except (ValueError, OSError):
            return False

    def fileno(self) -> int:
        """The descriptor underneath (rich asks for it to size the terminal)."""
        if self.inner is None:
            raise io.UnsupportedOperation("stdout is closed")
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The encoding of the stream underneath."""
        return getattr(self.inner, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        """Write `text`, or remember why it could not be written."""
        if self.error is None and self.inner is not None:
            try:
                self.inner.write(text)
            except (OSError, ValueError) as error:  # ValueError: the file was closed
                self._failed(error)
        return len(text)

    def flush(self) -> None:
        """Flush, or remember why it could not be flushed."""
        if self.error is None and self.inner is not None:
            try:
                self.inner.flush()
            except (OSError, ValueError) as error:
                self._failed(error)

    def _failed(self, error: BaseException) -> None:
        self.error = error
        if isinstance(error, BrokenPipeError) and self.on_broken_pipe is not None:
            self.on_broken_pipe()

    def why(self) -> str:
        """The error in words: 'No space left on device'."""
        error = self.error
        if isinstance(error, OSError) and error.strerror:
            return error.strerror
        return str(error) or type(error).__name__

    def settle(self) -> None:
        """Flush what is left; if the output failed, point descriptor 1 at /dev/null so exiting prints nothing more."""
        self.flush()
        if self.error is not None and self.inner is not None:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.inner.fileno())
                os.close(devnull)
            except (OSError, ValueError, io.UnsupportedOperation):
                pass


def say_to_stderr(line: str) -> None:
    """One line on stderr; if stderr is gone too, nothing."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass
