"""Config dataclass helpers (STYLE.md §3): plain frozen dataclasses, saved as JSON.

Configs only *parametrise* work; they implement none of it. Each field may carry GUI hints in
``field(metadata=hint(...))``, from which the GUI builds its forms:

    steps: int = field(default=3000, metadata=hint("Steps", (1, 10**6), "steps"))

Subclass :class:`ConfigBase` to get ``to_dict`` / ``from_dict`` / ``replace``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from poselab.core.errors import PoselabError

C = TypeVar("C", bound="ConfigBase")


def hint(label: str, range: tuple | None = None, unit: str = "", choices: tuple | None = None,
         help: str = "") -> dict[str, Any]:
    """GUI metadata for a config field: label, numeric range, unit, choices, tooltip."""
    return {"label": label, "range": range, "unit": unit, "choices": choices, "help": help}


class ConfigBase:
    """Mixin for frozen config dataclasses: JSON round trip with the poselab version."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from :meth:`to_dict` output; unknown keys raise.

        Raises:
            PoselabError: unknown keys or values rejected by ``__post_init__``.
        """
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names - {"poselab_version"}
        if unknown:
            raise PoselabError(f"{cls.__name__}: unknown settings {sorted(unknown)}")
        kwargs = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                v = data[f.name]
                kwargs[f.name] = tuple(v) if isinstance(v, list) else v
        return cls(**kwargs)

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_json(self) -> str:
        from poselab import __version__

        return json.dumps({"poselab_version": __version__, **self.to_dict()}, indent=2)


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` → ``"cuda"`` when torch sees a GPU, else ``"cpu"``; other names pass through.

    Raises:
        PoselabError: ``"cuda"`` requested but not available.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PoselabError("device 'cuda' was requested but torch sees no CUDA GPU; use 'cpu' "
                           "or 'auto'")
    return device
