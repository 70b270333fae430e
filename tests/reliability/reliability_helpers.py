"""Helpers of the reliability tests: file digests, the CLI run, a damaged checkpoint."""

from __future__ import annotations

import hashlib
from pathlib import Path


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative path → hex), lock files excluded."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.name.endswith(".poselab-lock")}


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """``poselab ARGS`` in this process; returns (exit code, stdout, stderr).

    Asserts what every user-caused failure must look like: exit code 2, one line on stderr,
    no traceback.
    """
    from poselab.cli import main

    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        rc = exc.code
    out, err = capsys.readouterr()
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1, err
        assert "Traceback" not in err and lines[0].startswith("poselab"), err
    return rc, out, err


def flip_weight_bytes(checkpoint: Path) -> None:
    """Flip bytes in the middle of the largest tensor stored in a torch zip checkpoint (what a
    bad copy or a failing disk does), keeping the zip readable."""
    import zipfile

    with zipfile.ZipFile(checkpoint) as zf:
        info = max((i for i in zf.infolist() if "/data/" in i.filename),
                   key=lambda i: i.file_size)
    raw = bytearray(checkpoint.read_bytes())
    # local header: 30 bytes + name + extra field, then the (stored, uncompressed) data
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    mid = start + info.file_size // 2
    for k in range(8):
        raw[mid + k] ^= 0x5A
    checkpoint.write_bytes(bytes(raw))
