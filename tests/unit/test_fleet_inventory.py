"""Fleet files: the plain list, Ansible INI and Ansible YAML; names kept as written."""

from __future__ import annotations

import pytest

from store import errors
from store.fleet import inventory


def test_plain_list_keeps_each_line_as_the_name(tmp_path):
    f = tmp_path / "fleet.txt"
    f.write_text("# two nodes\n\nssh://root@a:2222/run/c.sock\n   ssh://b   \n")
    nodes = inventory.read_fleet(f)
    assert [n.name for n in nodes] == ["ssh://root@a:2222/run/c.sock", "ssh://b"]
    assert (nodes[0].address.host, nodes[0].address.port, nodes[0].address.socket) == ("a", 2222, "/run/c.sock")


def test_plain_list_errors_name_the_line(tmp_path):
    f = tmp_path / "fleet.txt"
    f.write_text("ssh://a\nssh://-oProxyCommand=x\n")
    with pytest.raises(errors.InvalidArgument, match=r"fleet.txt:2: .*starts with '-'"):
        inventory.read_fleet(f)
    f.write_text("ssh://a\nssh://a\n")
    with pytest.raises(errors.InvalidArgument, match="listed twice"):
        inventory.read_fleet(f)


def test_empty_or_missing_file_is_refused(tmp_path):
    f = tmp_path / "fleet.txt"
    f.write_text("# nothing\n")
    with pytest.raises(errors.InvalidArgument, match="names no node"):
        inventory.read_fleet(f)
    with pytest.raises(errors.InvalidArgument, match="cannot read fleet file"):
        inventory.read_fleet(tmp_path / "missing")


INI = """\
# Ansible style
[web]
web1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=ops
web2

[db]
db1 ansible_host=10.0.0.9 containerd_socket=/run/k3s/containerd/containerd.sock
web1

[db:vars]
ansible_user=dba

[all:vars]
ansible_port=22

[prod:children]
db
"""


def test_ansible_ini(tmp_path):
    f = tmp_path / "hosts.ini"
    f.write_text(INI)
    nodes = {n.name: n for n in inventory.read_fleet(f)}
    assert list(nodes) == ["web1", "web2", "db1"]
    w1 = nodes["web1"].address
    assert (w1.host, w1.port, w1.user) == ("10.0.0.1", 2222, "ops")  # host vars beat group vars
    assert nodes["web1"].groups == ("web", "db")
    w2 = nodes["web2"].address
    assert (w2.host, w2.port, w2.user) == ("web2", 22, None)
    d1 = nodes["db1"].address
    assert (d1.host, d1.user, d1.socket) == ("10.0.0.9", "dba", "/run/k3s/containerd/containerd.sock")


@pytest.mark.parametrize("text, says", [
    ("[web]\nweb1 ansible_host=-oProxyCommand=x\n", "starts with '-'"),
    ("[web]\nweb1 ansible_host=a/b\n", "does not belong there"),
    ("[web]\nweb1 ansible_port=ssh\n", "port 'ssh'"),
    ("[web]\nweb1 containerd_socket=relative.sock\n", "holds a character that does not belong there"),
    ("[web]\nweb[01:10]\n", "host ranges"),
    ("[web:other]\nx\n", "unknown section kind"),
    ("[web]\nweb1 novalue\n", "is not key=value"),
])
def test_ansible_ini_refuses(tmp_path, text, says):
    f = tmp_path / "hosts"
    f.write_text(text)
    with pytest.raises(errors.InvalidArgument, match=says):
        inventory.read_fleet(f)


YAML = """\
all:
  vars:
    ansible_user: root
  hosts:
    node-a:
      ansible_host: 127.0.0.1
      ansible_port: 2201
  children:
    edge:
      vars:
        containerd_socket: /run/k3s/containerd/containerd.sock
      hosts:
        node-b:
          ansible_host: "::1"
          ansible_port: 2202
        node-c:
"""


def test_ansible_yaml(tmp_path):
    f = tmp_path / "inventory.yml"
    f.write_text(YAML)
    nodes = {n.name: n for n in inventory.read_fleet(f)}
    assert list(nodes) == ["node-a", "node-b", "node-c"]
    a, b, c = nodes["node-a"].address, nodes["node-b"].address, nodes["node-c"].address
    assert (a.host, a.port, a.user, a.socket) == ("127.0.0.1", 2201, "root", "/run/containerd/containerd.sock")
    assert (b.host, b.port, b.socket) == ("::1", 2202, "/run/k3s/containerd/containerd.sock")
    assert str(b) == "ssh://root@[::1]:2202/run/k3s/containerd/containerd.sock"
    assert (c.host, c.user) == ("node-c", "root")
    assert nodes["node-b"].groups == ("edge",)


def test_yaml_is_recognised_without_a_suffix(tmp_path):
    f = tmp_path / "inventory"
    f.write_text(YAML)
    assert [n.name for n in inventory.read_fleet(f)] == ["node-a", "node-b", "node-c"]


@pytest.mark.parametrize("text, says", [
    ("all:\n  hosts: [a, b]\n", "not a mapping of host names"),
    ("all:\n  hostz:\n    a:\n", "a group holds hosts:"),
    ("all:\n  hosts:\n    a:\n      ansible_host: [1, 2]\n", "is not a plain value"),
    ("all: [\n", "not a YAML inventory"),
    ("- a\n- b\n", "mapping of groups"),
    ("all:\n  hosts:\n    a:\n      ansible_host: '-oProxyCommand=x'\n", "starts with '-'"),
])
def test_yaml_refuses(tmp_path, text, says):
    f = tmp_path / "inv.yaml"
    f.write_text(text)
    with pytest.raises(errors.InvalidArgument, match=says):
        inventory.read_fleet(f)


def test_yaml_tags_build_no_objects(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text("all:\n  hosts:\n    a: !!python/object/apply:os.system ['touch " + str(tmp_path / "owned") + "']\n")
    with pytest.raises(errors.InvalidArgument):
        inventory.read_fleet(f)
    assert not (tmp_path / "owned").exists()
