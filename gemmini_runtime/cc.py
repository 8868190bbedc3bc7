"""gemmini-cc: a C compiler driver for Gemmini programs on the host.

    gemmini-cc [--config NAME] prog.c -o prog && ./prog

Used like cc: every argument is passed to the host compiler, with the runtime's include
root (so `#include "include/gemmini.h"` resolves), the chosen config's gemmini_params.h,
and, when linking, the simulator library. The config comes from --config or the
GEMMINI_CONFIG environment variable (default int8; see gemmini_runtime.config.CONFIGS).
At run time, GEMMINI_STATS=1 prints a one-line stats summary to stderr at exit.
"""
from __future__ import annotations

import subprocess
import sys

from .build import CC, PROGRAM_DEFINES, BuildError, include_flags, link_flags
from .config import CONFIGS, get_config

USAGE = f"usage: gemmini-cc [--config {{{','.join(CONFIGS)}}}] [cc arguments...]"


def split_config(argv: list[str]) -> tuple[str | None, list[str]]:
    config, rest, i = None, [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--config":
            if i + 1 == len(argv):
                raise SystemExit(USAGE)
            config = argv[i + 1]
            i += 2
            continue
        if a.startswith("--config="):
            config = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return config, rest


def command(argv: list[str]) -> list[str]:
    """The host compiler command line for gemmini-cc's arguments."""
    config_name, args = split_config(argv)
    cfg = get_config(config_name)
    links = not any(a in ("-c", "-E", "-S", "-M", "-MM") for a in args)
    cmd = [CC, *PROGRAM_DEFINES, *include_flags(cfg), *args]
    if links:
        cmd += link_flags(cfg)
    return cmd


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        print(__doc__)
        return 0 if argv else 2
    try:
        cmd = command(argv)
    except (ValueError, BuildError) as e:
        print(f"gemmini-cc: {e}", file=sys.stderr)
        return 2
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
