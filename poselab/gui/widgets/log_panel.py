"""Log panel: Python ``logging`` records shown in a read-only text widget.

:class:`QtLogHandler` may be called from any thread (workers log too); it forwards the
formatted line through a Qt signal, so the widget is only touched in the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QPlainTextEdit


class _Bridge(QObject):
    emitted = Signal(str)


class QtLogHandler(logging.Handler):
    """A logging handler that sends formatted records to :class:`LogPanel` via a signal."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                            "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.emitted.emit(self.format(record))
        except RuntimeError:  # the bridge was deleted at exit
            pass


class LogPanel(QPlainTextEdit):
    """Read-only, bounded log view; attach with :meth:`install` (root logger)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(2000)
        self.handler = QtLogHandler()
        self.handler.bridge.emitted.connect(self._on_handler_emitted)

    def install(self, logger: logging.Logger | None = None) -> None:
        logger = logger or logging.getLogger()
        if logger.level > logging.INFO or logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        logger.addHandler(self.handler)

    def uninstall(self, logger: logging.Logger | None = None) -> None:
        (logger or logging.getLogger()).removeHandler(self.handler)

    @Slot(str)
    def _on_handler_emitted(self, line: str) -> None:
        self.appendPlainText(line)
