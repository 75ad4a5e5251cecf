"""Command line: parse arguments, call the library, print. Errors are one line and exit 2.

The commands live in ``archcalc/commands/`` (one module each, listed in ``COMMANDS``); this
module only builds the parser from that table and turns exceptions into one-line errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .errors import SpecError

EXIT_ERROR = 2
DEBUG_ENV = "ARCHCALC_DEBUG"


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the options of that command alone are configured
    (the others are listed but take none), so running one command imports only what it needs."""
    from .commands import all_commands

    commands = all_commands()
    epilog = "commands:\n" + "\n".join(f"  {m.NAME:<9} {m.HELP}\n  {'':<9} e.g. {m.EXAMPLE}" for m in commands)
    p = argparse.ArgumentParser(prog="archcalc", description="What a CNN costs: volumes, params, memory, multiply-adds.",
                                epilog=epilog + f"\n\n`archcalc COMMAND --help` for a command's options; --debug (or {DEBUG_ENV}=1) "
                                "shows the traceback of an internal error.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in commands:
        cp = sub.add_parser(module.NAME, help=module.HELP, description=module.DESCRIPTION,
                            epilog=f"example: {module.EXAMPLE}")
        if only is None or only == module.NAME:
            module.configure(cp)
        cp.set_defaults(run=module.run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    p = parser(next((w for w in words if not w.startswith("-")), None))
    args = p.parse_args(argv)
    if args.command is None:  # `archcalc` alone: the command list, as --help shows it
        p.print_help()
        return EXIT_ERROR
    debug = args.debug or bool(os.environ.get(DEBUG_ENV))
    try:
        return args.run(args)
    except SpecError as exc:
        if debug:
            raise
        print(f"archcalc: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `archcalc table vgg16 | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: one line, never a traceback
        if debug:
            raise
        print(f"archcalc: internal error: {exc.__class__.__name__}: {exc} (please report this; "
              f"--debug or {DEBUG_ENV}=1 shows the traceback)", file=sys.stderr)
        return 3
