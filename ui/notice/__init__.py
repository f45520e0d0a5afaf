"""The recovery notice the attendant sees when a vehicle at the exit owes money."""

from ui.notice.dialog import ExitPolicy, NoticeDialog

__all__ = ["ExitPolicy", "NoticeDialog"]
