"""Command-line interface: ``rhm-theory <command>`` (also ``python -m rhm_theory``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["COMMAND_MODULES", "EXIT_STATUS", "build_parser", "main"]

#: One module per command group; each defines ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "rhm_theory.cli.grammar_cmd",
    "rhm_theory.cli.sample_cmd",
    "rhm_theory.cli.exact_cmd",
    "rhm_theory.cli.bounds_cmd",
    "rhm_theory.cli.ilc_cmd",
    "rhm_theory.cli.verify_cmd",
    "rhm_theory.cli.figures_cmd",
    "rhm_theory.cli.neural_cmd",
    "rhm_theory.cli.bp_cmd",
    "rhm_theory.cli.explore_cmd",
    "rhm_theory.cli.threshold_cmd",
    "rhm_theory.cli.measure_cmd",
    "rhm_theory.cli.warmup_cmd",
)

#: The exit statuses of every command (documented in docs/cli.md).
EXIT_STATUS: dict[int, str] = {
    0: "success (for verify and explore: no claim check FAILed)",
    1: "a claim check FAILed (verify, explore): a result, not a crash; see the report",
    2: "bad input: an invalid option value or file, or a path that cannot be read or written "
       "(one line on stderr names the option or path)",
    130: "interrupted (Ctrl-C); verify, explore and figures --sweep-dir resume when rerun",
    141: "stdout closed by the reader (e.g. `| head`); nothing more is printed",
}

_TRACEBACK_HELP = ("on an error, print the full traceback after the one-line message (also "
                   "with the environment variable RHM_TRACEBACK=1)")

_EPILOG = "exit status: " + "; ".join(f"{k} {v}" for k, v in EXIT_STATUS.items())


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``rhm-theory ilc: error: argument --n-test:
    must be >= 1, got 0 (see rhm-theory ilc --help)``, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from rhm_theory import __version__

    return __version__


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Give every command ``-q/--quiet`` (also accepted before the command name)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_common(child)
            return
    if "--quiet" not in parser._option_string_actions:
        # SUPPRESS: a flag before the command name is not reset by the command's parser.
        parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                            help="no progress or notices on stderr (errors still print)")
    if "--traceback" not in parser._option_string_actions:
        parser.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                            help=_TRACEBACK_HELP)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available command registered."""
    parser = _Parser(
        prog="rhm-theory",
        description=(
            "Random Hierarchy Model theory checks: grammars, exact statistics, bounds, "
            "Iterative Latent Clustering and the sample-complexity verification."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"rhm-theory {_version()}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress or notices on stderr (errors still print)")
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not built (yet): skip it, never hide real errors
                continue
            raise
        module.register(sub)
    for child in sub.choices.values():
        _add_common(child)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    sub = getattr(args, "grammar_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def _os_error_text(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}"
        if exc.filename2 is not None:
            text += f" -> {exc.filename2}"
        return text
    return str(exc)


def _silence_stdout() -> None:
    # The reader closed the pipe: send the rest (and the interpreter's final flush) nowhere.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rhm-theory`` console script; returns the exit status.

    Ordinary failures never show a traceback: a bad value (``ValueError``/``TypeError``)
    or a file problem (``OSError``: not found, is a directory, permission, no space) prints
    one line on stderr and returns 2; Ctrl-C returns 130 (resumable commands say so);
    a closed stdout (``| head``) returns 141 quietly. See :data:`EXIT_STATUS`.
    """
    name = "rhm-theory"
    args: argparse.Namespace | None = None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # answered before the commands (and numpy) are imported
        print(f"rhm-theory {_version()}")
        return 0
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # usage error (2, one line printed), --help or --version
            return exc.code if isinstance(exc.code, int) else 2
        args.quiet = bool(getattr(args, "quiet", False))
        name = f"rhm-theory {_command_name(args)}"
        status = args.func(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        resumable = args is not None and getattr(args, "resumable", False)
        tail = "; rerun the same command to resume" if resumable else ""
        print(f"\n{name}: interrupted{tail}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:
        print(f"{name}: error: {_os_error_text(exc)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        from rhm_theory.cli._errors import traceback_wanted, user_frame

        where = user_frame(exc)
        full = traceback_wanted(bool(getattr(args, "traceback", False)))
        text = f"{name}: error: {exc}"
        if where is not None:
            text += f" [raised at {where}]"
        if full:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        elif where is not None:
            text += "; --traceback or RHM_TRACEBACK=1 shows the full traceback"
        print(text, file=sys.stderr)
        return 2
    return int(status or 0)
