"""store.containerd._rpc: addresses, namespaces and the translation of gRPC failures into store errors."""

from __future__ import annotations

import grpc
import pytest

from store import errors
from store.containerd import _rpc
from store.containerd._convert import info_from_pb
from store.containerd._pb import content_pb2


class FakeRpcError(grpc.RpcError):
    """What grpc raises: an RpcError that is also a Call with code() and details()."""

    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


@pytest.mark.parametrize("address, target", [
    ("/run/containerd/containerd.sock", "unix:///run/containerd/containerd.sock"),
    ("unix:///run/containerd/containerd.sock", "unix:///run/containerd/containerd.sock"),
    ("unix:/tmp/c.sock", "unix:///tmp/c.sock"),
    ("tcp://10.0.0.5:1234", "10.0.0.5:1234"),
    ("node7.example:1234", "node7.example:1234"),
])
def test_addresses_as_ctr_accepts_them(address, target):
    assert _rpc.grpc_target(address) == target


@pytest.mark.parametrize("address, message", [
    ("", "must not be empty"), ("   ", "must not be empty"), ("http://x:1", "unknown scheme"),
    ("tcp://", "names no host"),
])
def test_bad_addresses_are_invalid_arguments(address, message):
    with pytest.raises(errors.InvalidArgument, match=message):
        _rpc.grpc_target(address)


def test_tls_on_a_socket_is_refused_and_missing_files_named(tmp_path):
    with pytest.raises(errors.InvalidArgument, match="TLS is for tcp://"):
        _rpc.open_channel("/tmp/x.sock", _rpc.TLSConfig(ca=None))
    with pytest.raises(errors.InvalidArgument, match=f"cannot read TLS file {tmp_path / 'ca.pem'}"):
        _rpc.open_channel("tcp://127.0.0.1:1", _rpc.TLSConfig(ca=str(tmp_path / "ca.pem")))


@pytest.mark.parametrize("ns", ["default", "k8s.io", "moby", "a-b_c.d", "x" * 76])
def test_valid_namespaces(ns):
    assert _rpc.validate_namespace(ns) == ns


@pytest.mark.parametrize("ns", ["", "a/b", "../x", "a..b", "-a", "a-", "x" * 77, "spaced name", "ünï"])
def test_invalid_namespaces_fail_before_any_call(ns):
    with pytest.raises(errors.InvalidArgument):
        _rpc.validate_namespace(ns)


@pytest.mark.parametrize("code, details, kind, text", [
    (grpc.StatusCode.NOT_FOUND, "content digest sha256:ab: not found", errors.NotFound,
     "content digest sha256:ab: not found"),
    (grpc.StatusCode.ALREADY_EXISTS, "content sha256:ab: already exists", errors.AlreadyExists,
     "content sha256:ab: already exists"),
    (grpc.StatusCode.FAILED_PRECONDITION, "unexpected commit digest x, expected y: failed precondition",
     errors.FailedPrecondition, "unexpected commit digest x, expected y: failed precondition"),
    (grpc.StatusCode.INVALID_ARGUMENT, "filters: parse error: [a==]: bad", errors.InvalidArgument,
     "filters: parse error: [a==]: bad: invalid argument"),
    (grpc.StatusCode.UNIMPLEMENTED, "unknown method", errors.NotImplementedErr, "unknown method: not implemented"),
    (grpc.StatusCode.UNAVAILABLE, "ref default/1/r locked for 1s (since x): unavailable", errors.Unavailable,
     "ref default/1/r locked for 1s (since x): unavailable"),
    (grpc.StatusCode.INTERNAL, "boom", errors.Unknown, "doing it: boom"),
])
def test_status_codes_map_to_store_kinds(code, details, kind, text):
    err = _rpc.translate(FakeRpcError(code, details), "/s.sock", "doing it")
    assert type(err) is kind
    assert str(err) == text  # containerd's own kind suffix is not doubled


def test_transport_failures_name_the_address():
    err = _rpc.translate(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"),
                         "/run/x.sock", "listing content")
    assert isinstance(err, errors.Unavailable)
    assert str(err).startswith("cannot reach containerd at /run/x.sock: failed to connect to all addresses")
    assert "(while listing content)" in str(err)
    assert _rpc.is_transport_failure(FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
    assert "no answer before the timeout" in str(
        _rpc.translate(FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), "a:1"))
    assert _rpc.is_unreachable(err)
    # The daemon's own "unavailable" (a held ref lock) and other kinds are refusals, not a lost daemon.
    locked = _rpc.translate(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "ref default/1/r locked for 1s"), "/s.sock")
    assert isinstance(locked, errors.Unavailable) and not _rpc.is_unreachable(locked)
    assert not _rpc.is_unreachable(errors.Unavailable("cannot reach containerd, said someone"))
    assert not _rpc.is_unreachable(_rpc.translate(FakeRpcError(grpc.StatusCode.INTERNAL, "boom"), "/s.sock"))


def test_message_size_refusal_is_explained():
    err = _rpc.translate(FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "grpc: received message larger than max"),
                         "/s.sock", "writing 'r'")
    assert "rejected a message as too large" in str(err)


def test_go_zero_updated_at_from_list_shows_the_creation_time():
    msg = content_pb2.Info(digest="sha256:" + "a" * 64, size=3)
    msg.created_at.seconds, msg.created_at.nanos = 1_795_820_425, 146_132_545
    msg.updated_at.seconds = -62135596800  # what containerd 1.6's List sends
    info = info_from_pb(msg)
    assert info.updated_at.ns == info.created_at.ns == 1_795_820_425_146_132_545
    msg.updated_at.seconds, msg.updated_at.nanos = 1_795_820_500, 7
    assert info_from_pb(msg).updated_at.ns == 1_795_820_500_000_000_007


def test_fast_info_conversion_still_validates_digests():
    ok = info_from_pb(content_pb2.Info(digest="sha256:" + "a" * 64, size=1, labels={"k": "v"}))
    assert ok.digest.algorithm == "sha256" and ok.labels == {"k": "v"}
    ok.labels["mine"] = "x"  # the caller's own copy
    assert info_from_pb(content_pb2.Info(digest="sha512:" + "b" * 128)).digest.encoded == "b" * 128
    for bad in ("sha256:" + "A" * 64, "sha256:" + "a" * 63, "sha256:../../x", ""):
        with pytest.raises(errors.InvalidArgument):
            info_from_pb(content_pb2.Info(digest=bad))
