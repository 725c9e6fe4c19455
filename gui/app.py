"""``blobscope [STORE]``: parse the command line, set up Qt, open the window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

# Qt's own command-line options (kept for QApplication); those that take a value.
_QT_VALUE_OPTS = {"-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-style",
                  "-stylesheet", "-qwindowgeometry", "-qwindowtitle", "-qwindowicon", "-display",
                  "-geometry", "-session"}
_QT_FLAG_OPTS = {"-reverse", "-nograb", "-dograb", "-sync", "-widgetcount"}


def split_qt_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(ours, Qt's): ``-platform offscreen`` and friends go to QApplication untouched."""
    ours: list[str] = []
    qt: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in _QT_VALUE_OPTS:
            qt.append(a)
            if i + 1 < len(argv):
                qt.append(argv[i + 1])
            i += 2
            continue
        if a in _QT_FLAG_OPTS:
            qt.append(a)
        else:
            ours.append(a)
        i += 1
    return ours, qt


def build_parser() -> argparse.ArgumentParser:
    from store import __version__
    p = argparse.ArgumentParser(prog="blobscope",
                                description="Browse and manage a containerd content store.")
    p.add_argument("store", nargs="?", help="content store directory (default: the last one "
                   "opened, else your own store in the user data directory)")
    p.add_argument("-a", "--address", metavar="ADDRESS",
                   help="open a running containerd daemon: unix:///run/containerd/containerd.sock, a socket "
                        "path or tcp://host:port (default: $CONTAINERD_ADDRESS when no STORE is given)")
    p.add_argument("-n", "--namespace", metavar="NS",
                   help="containerd namespace (default: $CONTAINERD_NAMESPACE or 'default')")
    p.add_argument("--demo", action="store_true",
                   help="open a temporary store filled with an example image, labels and ingests")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="render the main window once the store is listed, save it, and exit")
    p.add_argument("--lang", metavar="LANG", help="user interface language, e.g. zh_CN or en")
    p.add_argument("--version", action="version", version=f"blobscope {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log more (to stderr)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, qt_args = split_qt_args(argv)
    parser = build_parser()
    args = parser.parse_args(ours)  # --version and --help exit here, before any Qt
    if args.address and (args.store or args.demo):
        parser.error("give a STORE directory or --address, not both")
    if not args.address and not args.store and not args.demo and os.environ.get("CONTAINERD_ADDRESS"):
        args.address = os.environ["CONTAINERD_ADDRESS"]
    namespace = args.namespace or os.environ.get("CONTAINERD_NAMESPACE")  # None: not given
    root_logger = logging.getLogger()
    if not root_logger.handlers:  # a host (tests) may have its own handlers: leave them alone
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG if args.verbose else logging.WARNING)  # the log dock shows more
        root_logger.addHandler(handler)
        root_logger.setLevel(logging.DEBUG if args.verbose else logging.INFO)

    # The fork server of the media-type workers starts now, beside Qt's own start-up, so the
    # first graph of a big store forks ready workers instead of starting interpreters.
    from store import workers
    workers.warm_up()

    if args.screenshot and "-platform" not in qt_args and not os.environ.get("QT_QPA_PLATFORM") \
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen

    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from store import __version__

    from . import i18n
    from .context import AppContext
    from .main_window import MainWindow
    from .resources import APP_ID, app_icon

    existing = QApplication.instance()
    owns_app = existing is None
    if existing is not None:
        if not isinstance(existing, QApplication):
            raise RuntimeError("Blobscope needs a QApplication (widgets), not a bare QCoreApplication")
        app = existing
    else:
        from . import qtlog
        qtlog.install()
        QCoreApplication.setOrganizationName("Blobscope")
        QCoreApplication.setApplicationName("Blobscope")
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication([sys.argv[0] if sys.argv else "blobscope"] + qt_args)
    QGuiApplication.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    i18n.install(app, args.lang)

    demo = None
    if args.demo:
        from .demo import build_demo_store
        demo = build_demo_store()
        demo.start_growing()
        store_path = str(demo.root)
    else:
        store_path = args.store

    ctx = AppContext()
    ctx.remember = not (args.demo or args.screenshot)
    window = MainWindow(ctx)
    if store_path is None:
        store_path = ctx.last_store() or str(ctx.default_store())
    if args.screenshot:
        from .screenshots import size_for_screenshot
        size_for_screenshot(window)
    window.show()
    if args.address:
        from .sources.saved import Source
        known = window.sources_ui.sources.find(args.address)
        if known is None:
            source = Source(args.address, namespace=namespace or "default")
        else:  # keep its name and TLS files; a namespace given now wins
            from dataclasses import replace
            source = replace(known, namespace=namespace or known.namespace)
        window.sources_ui.open_source(source)
    else:
        window.open_store(store_path)

    status = {"code": 0}
    if args.screenshot:
        target = Path(args.screenshot)

        def shoot():
            if status.get("shot"):
                return
            status["shot"] = True
            from .screenshots import prepare_for_screenshot
            prepare_for_screenshot(window)
            QTimer.singleShot(700, save)

        def save():
            target.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(target))
            if not ok:
                print(f"blobscope: could not save the screenshot to {target}", file=sys.stderr)
                status["code"] = 1
            window.close()

        def failed(message):
            print(f"blobscope: {message}", file=sys.stderr)
            status["code"] = 1
            window.close()

        window.mediaTypesDone.connect(shoot)
        window.storeFailed.connect(failed)
        # never block a headless run: its errors are printed, not shown
        ctx.dialogs.error = lambda _p, _t, text, detail="": failed(text)  # type: ignore[method-assign,assignment]

    bridge = None
    if owns_app:
        # SIGTERM (systemd, a session ending, kill) and Ctrl+C close the window as its close
        # button does: jobs cancelled (an import stays a resumable ingest), threads stopped
        from .unix_signals import SignalBridge
        bridge = SignalBridge(app)
        bridge.received.connect(lambda _signum: window.close())
    try:
        if owns_app:
            window.closed.connect(app.quit)
            code = app.exec()
            return status["code"] or code
        loop = QEventLoop()
        window.closed.connect(loop.quit)
        loop.exec()
        return status["code"]
    finally:
        if bridge is not None:
            bridge.close()
        if demo is not None:
            demo.close()
