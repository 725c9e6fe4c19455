"""``blobctl layers NAME`` on an image ``ctr images import`` made: the name found in the daemon's
image records (live, through the Images service) and in ``meta.db`` (the stopped root, offline),
with the same figures as the umoci layout they came from."""

from __future__ import annotations

import json

import pytest

from store import cli
from tests.support.containerd import ContainerdDaemon
from tests.support.images import oci_archive
from tests.support.layered import SQUASHED, TOTAL, WASTED, make_layered_layout, manifest_of

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

NAME = "example.org/fixture/layered:1"


def test_layers_by_image_name_live_and_offline(capsys, tmp_path, monkeypatch):
    for var in ("CONTAINERD_ADDRESS", "CONTAINERD_NAMESPACE", "BLOBSCOPE_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    layout = make_layered_layout(tmp_path / "img")
    manifest = manifest_of(layout)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"] = [m for m in index["manifests"] if m["digest"] == manifest][:1]
    index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": NAME}
    (layout / "index.json").write_text(json.dumps(index))
    archive = oci_archive(layout, tmp_path / "layered.oci.tar")
    with ContainerdDaemon(tmp_path / "d") as daemon:
        daemon.ctr("images", "import", str(archive))
        for target in (["-a", f"unix://{daemon.address}", "-n", "default"], None):
            if target is None:
                daemon.stop()
                target = ["--root", str(daemon.root)]
            rc = cli.main([*target, "layers", NAME, "--json"])
            out, err = capsys.readouterr()
            assert rc == 0, err
            doc = json.loads(out)
            assert doc["manifest"] == manifest
            assert (doc["total_bytes"], doc["squashed_bytes"], doc["wasted_bytes"]) == (TOTAL, SQUASHED, WASTED)
            rc = cli.main([*target, "layers", "example.org/no/such:1"])
            _, err = capsys.readouterr()
            assert rc == 1 and "no image is named 'example.org/no/such:1'" in err and err.count("\n") == 1
