"""The committed gRPC stubs are current, and our minimal protos keep containerd's wire names and numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from grpc_tools import protoc  # noqa: E402,F401  - fail loudly, never skip, if the tool is missing

from store.containerd import _codegen  # noqa: E402
from store.containerd._pb import content_pb2, leases_pb2, namespaces_pb2  # noqa: E402

PB_DIR = Path(_codegen.__file__).resolve().parent / "_pb"


def test_regenerating_the_stubs_gives_the_committed_files(tmp_path):
    written = _codegen.generate(tmp_path)
    fresh = {p.name: p.read_bytes() for p in written}
    committed = {p.name: p.read_bytes() for p in PB_DIR.iterdir()
                 if p.is_file() and p.name != "__init__.py"}
    assert sorted(fresh) == sorted(committed), "stub files added or missing: run store/containerd/_codegen.py"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"committed stubs differ from the protos: {stale}; run store/containerd/_codegen.py"


def test_generated_code_imports_only_inside_store_containerd():
    for path in PB_DIR.glob("*_grpc.py"):
        text = path.read_text()
        assert "from containerd" not in text and "import containerd" not in text, path.name
        assert "from store.containerd._pb import" in text, path.name


def _fields(message) -> dict[str, int]:
    return {f.name: f.number for f in message.DESCRIPTOR.fields}


def test_service_paths_are_containerds():
    assert content_pb2.DESCRIPTOR.services_by_name["Content"].full_name == "containerd.services.content.v1.Content"
    assert leases_pb2.DESCRIPTOR.services_by_name["Leases"].full_name == "containerd.services.leases.v1.Leases"
    assert (namespaces_pb2.DESCRIPTOR.services_by_name["Namespaces"].full_name
            == "containerd.services.namespaces.v1.Namespaces")
    methods = {m.name: (m.client_streaming, m.server_streaming)
               for m in content_pb2.DESCRIPTOR.services_by_name["Content"].methods}
    assert methods == {
        "Info": (False, False), "Update": (False, False), "List": (False, True), "Delete": (False, False),
        "Read": (False, True), "Status": (False, False), "ListStatuses": (False, False),
        "Write": (True, True), "Abort": (False, False),
    }


# Field numbers from containerd's api/services/*/v1 protos (research B.2); they are the wire format.
@pytest.mark.parametrize("message, expected", [
    (content_pb2.Info, {"digest": 1, "size": 2, "created_at": 3, "updated_at": 4, "labels": 5}),
    (content_pb2.UpdateRequest, {"info": 1, "update_mask": 2}),
    (content_pb2.ListContentRequest, {"filters": 1}),
    (content_pb2.ListContentResponse, {"info": 1}),
    (content_pb2.ReadContentRequest, {"digest": 1, "offset": 2, "size": 3}),
    (content_pb2.ReadContentResponse, {"offset": 1, "data": 2}),
    (content_pb2.Status, {"started_at": 1, "updated_at": 2, "ref": 3, "offset": 4, "total": 5, "expected": 6}),
    (content_pb2.ListStatusesResponse, {"statuses": 1}),
    (content_pb2.WriteContentRequest,
     {"action": 1, "ref": 2, "total": 3, "expected": 4, "offset": 5, "data": 6, "labels": 7}),
    (content_pb2.WriteContentResponse,
     {"action": 1, "started_at": 2, "updated_at": 3, "offset": 4, "total": 5, "digest": 6}),
    (content_pb2.AbortRequest, {"ref": 1}),
    (leases_pb2.Lease, {"id": 1, "created_at": 2, "labels": 3}),
    (leases_pb2.CreateRequest, {"id": 1, "labels": 3}),
    (leases_pb2.DeleteRequest, {"id": 1, "sync": 2}),
    (namespaces_pb2.Namespace, {"name": 1, "labels": 2}),
    (namespaces_pb2.ListNamespacesResponse, {"namespaces": 1}),
])
def test_field_numbers_match_containerd(message, expected):
    assert _fields(message) == expected


def test_write_actions_match_containerd():
    assert (content_pb2.STAT, content_pb2.WRITE, content_pb2.COMMIT) == (0, 1, 2)
