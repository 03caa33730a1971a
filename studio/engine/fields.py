"""Checking fields of files from strangers: typed, in range, named in a person's words.

Torch-free and Qt-free: model files (studio.engine.schema), sessions and directions files
(studio.engine.session) and the stream cache's index all check their fields with these.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from studio.engine.errors import StudioError

MAX_JSON_BYTES = 32 * 1024 * 1024  # a session or directions file larger than this is refused
MAX_TEXT = 4096                     # characters of a name, a label or a path


class SchemaError(ValueError):
    """One field of a file that is not what it must be."""


def _int(v, name: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise SchemaError(f"{name} must be a whole number, not {type(v).__name__}")
    if not lo <= v <= hi:
        raise SchemaError(f"{name} must be between {lo} and {hi}")
    return v


def _float(v, name: str, lo: float, hi: float, lo_open: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SchemaError(f"{name} must be a number, not {type(v).__name__}")
    v = float(v)
    if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
        rest = f" and at most {hi}" if lo_open else f" and {hi}"
        raise SchemaError(f"{name} must be {'above' if lo_open else 'between'} {lo}{rest}")
    return v


def _choice(v, name: str, choices) -> str:
    if not isinstance(v, str) or v not in choices:
        raise SchemaError(f"{name} must be one of {', '.join(choices)}")
    return v


def text(v, name: str, max_len: int = MAX_TEXT, optional: bool = False) -> str | None:
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise SchemaError(f"{name} must be text, not {type(v).__name__}")
    if len(v) > max_len:
        raise SchemaError(f"{name} must be at most {max_len} characters")
    return v


def listed(v, name: str, max_len: int) -> list:
    if not isinstance(v, list):
        raise SchemaError(f"{name} must be a list, not {type(v).__name__}")
    if len(v) > max_len:
        raise SchemaError(f"{name} must hold at most {max_len} entries")
    return v


def table(v, name: str) -> dict:
    if not isinstance(v, dict):
        raise SchemaError(f"{name} must be a table, not {type(v).__name__}")
    return v


def vector(v, name: str, max_len: int, size: int | None = None) -> list[float]:
    """A list of finite numbers (of `size` numbers, if given)."""
    v = listed(v, name, max_len)
    if not v:
        raise SchemaError(f"{name} must not be empty")
    if size is not None and len(v) != size:
        raise SchemaError(f"{name} must hold {size} numbers, not {len(v)}")
    out = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise SchemaError(f"{name} must hold only numbers")
        x = float(x)  # an int beyond a float's range raises OverflowError: caught by read_json
        if not math.isfinite(x):
            raise SchemaError(f"{name} must hold only finite numbers")
        out.append(x)
    return out


def read_json(path: str | Path, what: str):
    """A small JSON file from anywhere, parsed: one line naming the file when it is not."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise StudioError(f"{path}: too large for a {what} "
                              f"(more than {MAX_JSON_BYTES // (1024 * 1024)} MB)")
        text_ = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise StudioError(f"{path}: is a folder, not a {what}") from None
    except OSError as e:
        raise StudioError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise StudioError(f"{path}: not a {what} (not text)") from None
    try:
        return json.loads(text_)
    except RecursionError:
        raise StudioError(f"{path}: not a {what} (nested too deeply)") from None
    except ValueError as e:  # bad JSON, or an integer too long to read
        raise StudioError(f"{path}: not a {what} (bad JSON: {str(e)[:80]})") from None
