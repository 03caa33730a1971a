"""Evented models: objects whose fields announce their own changes (after napari's
`EventedModel` and Glue's state objects).

A class declares its fields as `Announced(change)`; assigning one tells the listeners of that
change, so no setter can forget to, and only when the value really changed: the new value is
compared with the old one, arrays by their contents (as napari's `EventedModel.__setattr__`
does), so assigning a field its own value announces nothing, and no code re-assigns a field
to re-announce it. Values are meant to be immutable (tuples, frozen dataclasses, arrays that
are replaced rather than written into): a change is an assignment.

A document is made of parts, each an `Evented` with its own fields and listeners; a view
binds to the part it shows (`state.canvas.on(Change.PAINTED, fn)`). The parts of one document
share one `Batch`: several assignments that make one change of mind (a model opens: its
info, its map, the face painted again) are grouped with `with doc.changes():`, across parts;
each change is then announced once, when the group ends, in the order it first happened, and
only after every field is set, so a listener never sees half of it.

Qt-free and import-free: the state's tests run without a QApplication.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterable, Iterator

import numpy as np

_UNSET = object()


def same(a: Any, b: Any) -> bool:
    """Whether two field values are the same value: arrays by shape, dtype and contents,
    tuples, lists and dicts item by item, dataclasses field by field, the rest by `==` (an
    object without its own equality: by identity)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b)))
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(same(getattr(a, f.name), getattr(b, f.name))
                   for f in dataclasses.fields(a))
    try:
        return bool(a == b)
    except Exception:  # an ambiguous comparison (arrays, tensors inside): treat as changed
        return False


class Announced:
    """A field that announces `change` to its owner's listeners when it is assigned a value
    other than the one it holds."""

    def __init__(self, change: Hashable):
        self.change = change

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None) -> Any:
        if obj is None:
            return self
        return obj.__dict__[self.name]

    def __set__(self, obj, value) -> None:
        old = obj.__dict__.get(self.name, _UNSET)
        obj.__dict__[self.name] = value
        if old is _UNSET or not same(old, value):
            obj.announce(self.change)


class Batch:
    """Changes held back while a group is open, shared by the parts of one document: each
    (part, change) once, in the order it first happened, announced when the group ends."""

    def __init__(self) -> None:
        self._pending: list | None = None

    @property
    def open(self) -> bool:
        return self._pending is not None

    def hold(self, part: "Evented", change: Hashable) -> None:
        if (part, change) not in self._pending:
            self._pending.append((part, change))

    @contextmanager
    def group(self) -> Iterator[None]:
        if self._pending is not None:  # already inside a group: it announces them
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            for part, change in pending:
                part.tell(change)


class Evented:
    """An evented model: the changes its fields announce (given to `__init__`), their
    listeners, and the batch it announces through (the document's, or one of its own)."""

    def __init__(self, changes: Iterable[Hashable], batch: Batch | None = None) -> None:
        self._listeners: dict[Hashable, list[Callable]] = {c: [] for c in changes}
        self._batch = batch if batch is not None else Batch()

    def on(self, change: Hashable, fn: Callable) -> None:
        """Call fn when `change` is announced (a KeyError names a change this part never
        announces: bind to the part that owns the field)."""
        self._listeners[change].append(fn)

    def announce(self, change: Hashable, *args) -> None:
        """Tell the listeners of `change` now, or when the open group ends (without args:
        a change carrying arguments, a message, is never held back)."""
        if self._batch.open and not args:
            self._batch.hold(self, change)
            return
        self.tell(change, *args)

    def tell(self, change: Hashable, *args) -> None:
        for fn in list(self._listeners[change]):
            fn(*args)

    def changes(self):
        """Group the changes made inside (across every part sharing this batch): each
        announced once, at the end, in order."""
        return self._batch.group()

    def assign(self, name: str, value, change: Hashable) -> None:
        """Set the announced field `name`, announcing `change` in place of its own (the value
        is new but it is not the change the field stands for)."""
        self.__dict__[name] = value
        self.announce(change)
