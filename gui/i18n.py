"""Load the Qt Linguist translation for the user's (or a forced) language."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from .resources import path

log = logging.getLogger(__name__)

_installed: list[QTranslator] = []


def available() -> list[str]:
    d = path("i18n")
    return sorted(p.stem.removeprefix("blobscope_") for p in d.glob("blobscope_*.qm")) if d.is_dir() else []


def install(app: QCoreApplication, lang: str | None = None) -> str:
    """Install the translator for ``lang`` (e.g. ``zh_CN``) or the system locale; return the language used."""
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    locale = QLocale(lang) if lang else QLocale.system()
    tr = QTranslator(app)
    if tr.load(locale, "blobscope", "_", str(path("i18n"))):
        app.installTranslator(tr)
        _installed.append(tr)
        used = locale.name()
        qt = QTranslator(app)  # Qt's own strings: OK/Cancel buttons, file dialogs
        if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            _installed.append(qt)
    else:
        used = "en"
    _set_humanize(used)
    log.debug("user interface language: %s", used)
    return used


def _set_humanize(lang: str) -> None:
    """humanize ships its own zh_CN strings ("3 分钟前"); follow the UI language."""
    import humanize
    try:
        if lang.startswith("en"):
            humanize.i18n.deactivate()
        else:
            humanize.i18n.activate(lang)
    except FileNotFoundError:
        humanize.i18n.deactivate()
