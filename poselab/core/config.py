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
         help: str = "", typical: tuple | None = None) -> dict[str, Any]:
    """GUI metadata for a config field: label, numeric range, unit, choices, tooltip.

    ``range`` (inclusive) is enforced by :meth:`ConfigBase.check_numbers`; a value outside
    ``typical`` (inclusive) is legal but logged as a warning (absurd-but-legal settings such as
    a million NRSfM steps).
    """
    return {"label": label, "range": range, "unit": unit, "choices": choices, "help": help,
            "typical": typical}


def _is_int_field(f: dataclasses.Field) -> bool:
    return f.type in (int, "int")


def _is_float_field(f: dataclasses.Field) -> bool:
    return f.type in (float, "float")


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

    def check_numbers(self) -> None:
        """Validate every numeric field against its hint's range; call from ``__post_init__``.

        ``int`` fields must hold integers (an integral float such as JSON ``1e3`` becomes an
        int), ``float`` fields finite numbers (ints become floats); both must lie in the hint's
        ``range``. Values outside ``typical`` are logged as warnings.

        Raises:
            PoselabError: a non-number, NaN or infinity, a fraction for an int, or a value out
                of range — one line naming the setting, e.g. ``NRSfMConfig.steps = 1e+20 is
                out of range (1 … 10000000)``.
        """
        import logging
        import math

        name_cls = type(self).__name__
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            is_int, is_float = _is_int_field(f), _is_float_field(f)
            if not (is_int or is_float):
                continue
            v = getattr(self, f.name)
            where = f"{name_cls}.{f.name}"
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise PoselabError(f"{where} must be a number, got {v!r}")
            if not math.isfinite(v):
                raise PoselabError(f"{where} must be a finite number, got {v}")
            if is_int and not isinstance(v, int):
                if not float(v).is_integer():
                    raise PoselabError(f"{where} must be a whole number, got {v}")
            rng = (f.metadata or {}).get("range")
            if rng is not None:
                lo, hi = rng
                if (lo is not None and v < lo) or (hi is not None and v > hi):
                    raise PoselabError(f"{where} = {v:g} is out of range ({lo:g} … {hi:g})")
            if is_int and not isinstance(v, int):
                object.__setattr__(self, f.name, int(v))
            elif is_float and isinstance(v, int):
                object.__setattr__(self, f.name, float(v))
            typical = (f.metadata or {}).get("typical")
            if typical is not None and not typical[0] <= v <= typical[1]:
                logging.getLogger(type(self).__module__).warning(
                    "%s = %g is unusual (typically %g … %g); check the setting", where, v,
                    typical[0], typical[1])

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
