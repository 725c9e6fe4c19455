"""actionAbout: the version and the license."""

from __future__ import annotations

from .base import Command


class About(Command):
    action = "actionAbout"

    def trigger(self) -> None:
        from store import __version__
        self.ctx.dialogs.info(self.ctx.parent, self.tr("About Blobscope"), self.tr(
            "Blobscope {version}\nA browser for containerd content stores.\nLicensed under the "
            "Apache License 2.0.").format(version=__version__))
