"""YAML configuration files (DeepLabCut ``config.yaml``, Ultralytics dataset yaml) via PyYAML.

``yaml.safe_load`` builds plain dicts, lists, strings and numbers only — no Python objects
(``yaml.load`` with the full loader could construct any), so an untrusted file cannot run code.
It reads what the formats' own tools write: Windows path keys (``C:\\videos\\m1.avi:``),
quoted strings with ``#``, flow lists, anchors.
"""

from __future__ import annotations

from pathlib import Path

from poselab.core.errors import DataError


def read_yaml(path: str | Path) -> dict:
    """The top-level mapping of a YAML file (an empty file gives ``{}``).

    Raises:
        DataError: the file is missing or unreadable, not UTF-8, not valid YAML, or its top
            level is not a mapping (names the file and, for syntax errors, the line).
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except UnicodeDecodeError as err:
        raise DataError(path, f"not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise DataError(path, f"cannot read ({err.strerror or err})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise DataError(path, f"not valid YAML{where} ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataError(path, f"expected a YAML mapping at the top level, got "
                              f"{type(data).__name__}")
    return data
