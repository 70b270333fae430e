"""The small subset of YAML that DeepLabCut ``config.yaml`` and YOLO ``data.yaml`` use.

PyYAML is not a poselab dependency; these files only need block mappings, block sequences
(nested ones like DeepLabCut's ``skeleton: [- - a / - b]``), flow lists ``[17, 3]`` and plain or
quoted scalars. Anything else (anchors, multi-line strings) is skipped or read as text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def _scalar(text: str) -> Any:
    text = text.strip()
    if not text or text in ("~", "null", "Null", "NULL"):
        return None
    if text[0] in "[{":
        return _flow(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _split_top(text: str) -> list[str]:
    parts, depth, cur, quote = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def _flow(text: str) -> Any:
    text = text.strip()
    inner = text[1:-1]
    if text[0] == "[":
        return [_scalar(p) for p in _split_top(inner)]
    out = {}
    for p in _split_top(inner):
        k, _, v = p.partition(":")
        out[_scalar(k)] = _scalar(v)
    return out


def _strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).rstrip()


def _parse(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[Any, int]:
    """Parse the block starting at ``lines[pos]`` whose items sit at column ``indent``."""
    if pos >= len(lines):
        return None, pos
    if lines[pos][1].startswith("- ") or lines[pos][1] == "-":
        seq = []
        while pos < len(lines) and lines[pos][0] == indent and lines[pos][1].startswith("-"):
            rest = lines[pos][1][1:]
            inner_indent = indent + 1 + (len(rest) - len(rest.lstrip()))
            rest = rest.strip()
            if not rest:
                value, pos = _parse(lines, pos + 1, lines[pos + 1][0]) if pos + 1 < len(
                    lines) and lines[pos + 1][0] > indent else (None, pos + 1)
            elif rest.startswith("- ") or (":" in rest and not rest.startswith(("[", "{", "'",
                                                                                 '"'))):
                lines[pos] = (inner_indent, rest)  # an inline nested block: reparse in place
                value, pos = _parse(lines, pos, inner_indent)
            else:
                value, pos = _scalar(rest), pos + 1
            seq.append(value)
        return seq, pos
    mapping: dict = {}
    while pos < len(lines) and lines[pos][0] == indent and not lines[pos][1].startswith("- "):
        key, _, value = lines[pos][1].partition(":")
        key = _scalar(key)
        pos += 1
        if value.strip():
            mapping[key] = _scalar(value)
        elif pos < len(lines) and (lines[pos][0] > indent or (
                lines[pos][0] == indent and lines[pos][1].startswith("-"))):
            mapping[key], pos = _parse(lines, pos, lines[pos][0])
        else:
            mapping[key] = None
    return mapping, pos


def read_simple_yaml(path: str | Path) -> dict:
    """Parse a simple YAML file into dicts, lists and scalars.

    Raises:
        OSError: the file cannot be read. ValueError: the top level is not a mapping.
    """
    lines = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = _strip_comment(raw)
        if line.strip() and not line.strip().startswith(("---", "...")):
            lines.append((len(line) - len(line.lstrip()), line.strip()))
    if not lines:
        return {}
    data, _ = _parse(lines, 0, lines[0][0])
    if not isinstance(data, dict):
        raise ValueError("top level of the YAML file is not a mapping")
    return data
