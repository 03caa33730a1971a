"""Fields that announce their own changes (after napari's EventedModel and Glue's state objects).

A class declares its fields as `Announced(change)`; assigning one tells the listeners of that
change, so no setter can forget to. Values are meant to be immutable (tuples, frozen
dataclasses, arrays that are replaced rather than written into): a change is an assignment.
Several assignments that make one change of mind (a model opens: its info, its map, the face
painted again) are grouped with `with obj.changes():`; each change is then announced once,
when the group ends, in the order it first happened, and only after every field is set, so a
listener never sees half of it.

Qt-free and import-free: the state's tests run without a QApplication.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator


class Announced:
    """A field that announces `change` to its owner's listeners when it is assigned."""

    def __init__(self, change: Hashable):
        self.change = change

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None) -> Any:
        if obj is None:
            return self
        return obj.__dict__[self.name]

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.name] = value
        obj.announce(self.change)


class Announcer:
    """Listeners per change, and the grouping of changes (`changes()`)."""

    def __init__(self, changes) -> None:
        self._listeners: dict[Hashable, list[Callable]] = {c: [] for c in changes}
        self._pending: list | None = None  # changes held back by an open group

    def on(self, change: Hashable, fn: Callable) -> None:
        self._listeners[change].append(fn)

    def announce(self, change: Hashable, *args) -> None:
        """Tell the listeners of `change` now, or when the open group ends (without args:
        a change carrying arguments, a message, is never held back)."""
        if self._pending is not None and not args:
            if change not in self._pending:
                self._pending.append(change)
            return
        for fn in list(self._listeners[change]):
            fn(*args)

    def assign(self, name: str, value, change: Hashable) -> None:
        """Set the announced field `name`, announcing `change` in place of its own (the value
        is new but it is not the change the field stands for)."""
        self.__dict__[name] = value
        self.announce(change)

    @contextmanager
    def changes(self) -> Iterator[None]:
        """Group the changes made inside: each announced once, at the end, in order."""
        if self._pending is not None:  # already inside a group: it announces them
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            for change in pending:
                self.announce(change)
