"""``blobctl``'s parser and entry point: the global options, the subcommand parsers built from
the command table, logging, and :func:`main`, which turns every failure into an exit status and
one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from .. import errors, humanfmt, paths
from .._version import __version__
from . import common
from .common import ADDRESS_ENV, NAMESPACE_ENV, PROG, CliError, Context, UsageError, close_store

log = logging.getLogger(__name__)

#: Modules imported (when they exist) before the parser is built, so their :func:`.common.command`
#: decorators run; a missing dependency of one only takes its own commands away.
_EXTENSIONS = ("store.cli.graph", "store.cli.disk", "store.cli.snapshots", "store.cli.layers")
#: The order of the subcommands in ``blobctl --help`` (the order of the usage text); commands not
#: named here (extensions) follow in the order they were registered.
HELP_ORDER = ("ls", "active", "get", "ingest", "import", "rm", "label", "abort", "verify", "du",
              "namespaces", "where")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    # Also accepted after the subcommand ("blobctl ls --root X"); SUPPRESS keeps the top-level value.
    default = None if top else argparse.SUPPRESS
    p.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                   help="log what happens (-vv: more)")
    p.add_argument("--root", metavar="DIR", default=default,
                   help=f"content store directory, or a stopped containerd root (default: ${paths.ROOT_ENV} "
                        f"or {paths.default_store_dir()})")
    p.add_argument("-a", "--address", metavar="ADDRESS", default=default,
                   help=f"a containerd daemon instead of a directory: unix:///path, a socket path, "
                        f"tcp://host:port, or a node through SSH: ssh://[user@]host[:port][/socket] "
                        f"(default: ${ADDRESS_ENV} unless --root is given)")
    p.add_argument("-n", "--namespace", metavar="NS", default=default,
                   help=f"containerd namespace (default: ${NAMESPACE_ENV} or 'default')")
    p.add_argument("--tls-ca", metavar="PEM", default=default, help="CA of a tcp:// daemon's certificate")
    p.add_argument("--tls-cert", metavar="PEM", default=default, help="client certificate for a tcp:// daemon")
    p.add_argument("--tls-key", metavar="PEM", default=default, help="key of --tls-cert")
    p.add_argument("--ssh-config", metavar="FILE", default=default,
                   help="with -a ssh://[user@]host[:port][/socket]: this file instead of ~/.ssh/config (ssh -F)")
    p.add_argument("--fleet", metavar="FILE", default=default,
                   help="ask or change every node of FILE (ls, where, df, diff, rm, abort, import, leases rm; "
                        "see 'blobctl --fleet FILE --help')")
    p.add_argument("--force", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="write to a root that belongs to a containerd installation (stop containerd first)")


def _load_extensions() -> None:
    """Import the modules in :data:`_EXTENSIONS` that exist, so their :func:`.common.command` decorators run
    (a missing module is fine; a broken one is not)."""
    for name in _EXTENSIONS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                # a dependency of the extension is missing: its commands are gone, the rest still work
                log.warning("the commands of %s are unavailable: %s", name, exc)


def _in_help_order(commands):
    rank = {name: i for i, name in enumerate(HELP_ORDER)}
    return sorted(commands, key=lambda cmd: rank.get(cmd.name, len(rank)))  # stable: extensions keep theirs


def build_parser() -> argparse.ArgumentParser:
    _load_extensions()
    parser = _Parser(prog=PROG, description="Inspect and change a containerd-style content store.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for cmd in _in_help_order(common.COMMANDS.values()):
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, aliases=list(cmd.aliases))
        _global_options(p, top=False)
        if cmd.arguments:
            cmd.arguments(p)
        p.set_defaults(command=cmd.name)
    return parser


def _setup_logging(verbosity: int, stream) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
    _teardown_logging()
    handler._blobctl = True  # type: ignore[attr-defined]
    logger = logging.getLogger("store")
    logger.addHandler(handler)
    logger.setLevel(level)


def _teardown_logging() -> None:
    # main() may run many times in one process (tests, the GUI): leave no handler on an old stream.
    logger = logging.getLogger("store")
    for old in [h for h in logger.handlers if getattr(h, "_blobctl", False)]:
        logger.removeHandler(old)
    logger.setLevel(logging.NOTSET)


def main(argv: list[str] | None = None) -> int:
    """Run ``blobctl`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        return _main(argv)
    finally:
        _teardown_logging()


def _main(argv: list[str] | None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    _setup_logging(0, stderr)  # warnings while the parser is built go to this run's stderr
    args_list = sys.argv[1:] if argv is None else list(argv)
    if _wants_fleet(args_list):  # its own commands and parser; imported only then (it loads gRPC)
        from . import fleet
        return fleet.main(args_list, stdout, stderr, _setup_logging)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except Exception as exc:  # noqa: BLE001 - a broken extension module: still one line
        stderr.write(f"{PROG}: internal error while reading the command line: {type(exc).__name__}: "
                     f"{humanfmt.printable(str(exc))}\n")
        return 1
    _setup_logging(args.verbose, stderr)
    ctx = Context(args, stdout, stderr)
    try:
        if args.root and args.address:
            raise UsageError("--root and --address exclude each other: a directory, or a daemon")
        if args.force and ctx.address:
            raise UsageError("--force is for --root directories; through a daemon nothing needs forcing")
        if args.ssh_config and not ctx.ssh:
            raise UsageError("--ssh-config goes with -a ssh://[user@]host[:port][/socket] (or --fleet FILE)")
        ctx.tls()  # TLS options without a daemon address are a usage error before anything runs
        return common.COMMANDS[args.command].run(args, ctx)
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    except (CliError, errors.ContentError) as exc:
        log.debug("failed", exc_info=True)
        explain = getattr(ctx._store, "explain", None)
        if isinstance(exc, errors.ContentError) and callable(explain):
            exc = explain(exc)  # through SSH: say what happened to the tunnel, not only to gRPC
        stderr.write(f"{PROG}: {humanfmt.printable(str(exc))}\n")
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:
        log.debug("failed", exc_info=True)
        where = f": {exc.filename}" if exc.filename else ""
        stderr.write(f"{PROG}: {humanfmt.printable((exc.strerror or str(exc)) + where)}\n")
        return 1
    except KeyboardInterrupt as exc:
        why = f": {humanfmt.printable(str(exc.args[0]))}" if exc.args else ""
        stderr.write(f"{PROG}: interrupted{why}\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line; -vv shows the traceback
        log.debug("internal error", exc_info=True)
        stderr.write(f"{PROG}: internal error: {type(exc).__name__}: {humanfmt.printable(str(exc))} "
                     "(run with -vv for details)\n")
        return 1
    finally:
        try:
            stdout.flush()
        except (BrokenPipeError, ValueError):
            _silence_stdout()
        if ctx._store is not None:
            close_store(ctx._store)


def _wants_fleet(argv: list[str]) -> bool:
    """True when the command line asks for a fleet (``--fleet`` before any ``--``)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--fleet" or arg.startswith("--fleet="):
            return True
    return False


def _silence_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
