"""The ``forecast`` command. Start-up stays light: each command imports what it needs when it runs.

Exit codes: 0 done, 2 a user's mistake (one line on stderr), 130 interrupted, 1 a bug of ours.
"""

from __future__ import annotations

import os
import re
import sys

from forecast.errors import DataError, DownloadError

# the library's hints name Python arguments; on the command line they name flags
HINTS = {"time_col=": "--time-col", "id_col=": "--id-col", "sort=True": "--sort",
         "duplicates='drop'": "--duplicates drop", "fill='ffill'": "--fill ffill",
         "fill='interpolate'": "--fill interpolate", "target=": "--target", "freq=": "--freq",
         "future=": "--future FILE", "in_sample=True": "--all-windows",
         "date_format=": "--date-format", "dayfirst=True": "--dayfirst",
         "date_unit='s'": "--date-unit s", "fill=": "--fill", "decimal=": "--decimal",
         "id_col=": "--id-col"}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from forecast.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        args.run(args)
    except (DataError, DownloadError) as error:
        print(f"forecast: error: {flag_hints(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`forecast predict ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # an unexpected failure: a bug of ours, not the user's
        if args.debug:
            raise
        print(f"forecast: internal error: {type(error).__name__}: {error} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1
    return 0


def flag_hints(message: str) -> str:
    """A library message with its Python-argument hints replaced by the command's flags."""
    message = " ".join(message.split())  # one line, whatever the message held
    for python, flag in HINTS.items():
        if python.endswith("="):  # decimal=',' -> --decimal ,
            message = re.sub(re.escape(python) + r"'([^']*)'", lambda m, f=flag: f"{f} {m.group(1)}", message)
        message = message.replace(python, flag)
    return message
