"""A fleet file: the nodes to query, each keeping its name as written (docs/fleet.md).

Three shapes are read, told apart by their content (or a ``.yml``/``.yaml`` suffix):

* a plain list: one ``ssh://[user@]host[:port][/socket]`` a line, ``#`` comments, blank lines;
  the node's name is the address as written;
* an Ansible INI inventory: ``[group]`` sections, ``name ansible_host=... ansible_port=...
  ansible_user=...`` lines, ``[group:vars]`` and ``[group:children]``; the name is the first word;
* an Ansible YAML inventory (``all: hosts: {name: {ansible_host: ...}}, children: ...``); the
  name is the key.

In the Ansible shapes ``containerd_socket`` sets the remote socket path (default
``/run/containerd/containerd.sock``).  A name is what ``--json`` output prints, so scripts can
match it to their own inventory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import errors
from . import address as addr
from .address import SshAddress

SOCKET_VAR = "containerd_socket"
_HOST_VARS = ("ansible_host", "ansible_ssh_host")
_PORT_VARS = ("ansible_port", "ansible_ssh_port")
_USER_VARS = ("ansible_user", "ansible_ssh_user")
_SECTION = re.compile(r"\[([^\]\s]+)\]\Z")
# A fleet file is read whole; this bounds what a mistaken path (a disk image) can cost.
MAX_FILE_BYTES = 64 << 20


@dataclass(frozen=True)
class Node:
    """One node of a fleet: ``name`` as written in the file, where to reach it, its groups."""

    name: str
    address: SshAddress
    groups: tuple[str, ...] = ()


def read_fleet(path: os.PathLike | str) -> list[Node]:
    """The nodes of the fleet file at ``path``, in file order; :class:`errors.InvalidArgument` if malformed."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise errors.InvalidArgument(f"cannot read fleet file {p}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise errors.InvalidArgument(f"fleet file {p} is larger than {MAX_FILE_BYTES >> 20} MiB; is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.InvalidArgument(f"fleet file {p} is not UTF-8 text (byte {exc.start})") from None
    return parse_fleet(text, source=str(p), yaml_hint=p.suffix.lower() in (".yml", ".yaml"))


def parse_fleet(text: str, *, source: str = "<fleet>", yaml_hint: bool = False) -> list[Node]:
    """Parse a fleet file's text (see the module doc for the shapes)."""
    kind = "yaml" if yaml_hint else _sniff(text)
    if kind == "yaml":
        nodes = parse_yaml(text, source=source)
    elif kind == "ini":
        nodes = parse_ini(text, source=source)
    else:
        nodes = parse_list(text, source=source)
    if not nodes:
        raise errors.InvalidArgument(f"fleet file {source} names no node")
    return nodes


def _sniff(text: str) -> str:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line in ("---",) or (line.endswith(":") and not addr.is_ssh_address(line)):
            return "yaml"
        if _SECTION.match(line) or "=" in line.split("#")[0] and not addr.is_ssh_address(line):
            return "ini"
        if addr.is_ssh_address(line):
            return "list"
        return "ini"  # a bare host name: an INI inventory without a section
    return "list"


def parse_list(text: str, *, source: str = "<fleet>") -> list[Node]:
    """One ``ssh://`` address a line; ``#`` starts a comment line."""
    nodes: list[Node] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            address = addr.parse(line)
        except errors.InvalidArgument as exc:
            raise errors.InvalidArgument(f"{source}:{number}: {exc.message}") from None
        if line in seen:
            raise errors.InvalidArgument(f"{source}:{number}: node {line} is listed twice (first on line {seen[line]})")
        seen[line] = number
        nodes.append(Node(name=line, address=address))
    return nodes


# ---------------------------------------------------------------------------------------------
# Ansible INI

def parse_ini(text: str, *, source: str = "<fleet>") -> list[Node]:
    """An Ansible INI inventory: hosts in ``[group]`` sections with ``key=value`` variables."""
    host_vars: dict[str, dict[str, str]] = {}
    host_groups: dict[str, list[str]] = {}
    group_vars: dict[str, dict[str, str]] = {}
    children: dict[str, list[str]] = {}
    section, mode = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        where = f"{source}:{number}"
        m = _SECTION.match(line)
        if m:
            section, _, mode = m.group(1).partition(":")
            mode = mode or "hosts"
            if mode not in ("hosts", "vars", "children"):
                raise errors.InvalidArgument(f"{where}: unknown section kind [{m.group(1)}] "
                                             "(expected [group], [group:vars] or [group:children])")
            continue
        words = _split_words(line, where)
        if mode == "vars":
            group_vars.setdefault(section, {}).update(_pairs(words, where))
        elif mode == "children":
            children.setdefault(section, []).append(words[0])
        else:
            name = words[0]
            if "=" in name:
                raise errors.InvalidArgument(f"{where}: a host line starts with its name, not {name!r}")
            if re.search(r"\[[^\]]*:[^\]]*\]", name):
                raise errors.InvalidArgument(f"{where}: host ranges such as {name!r} are not supported; "
                                             "list each host")
            host_vars.setdefault(name, {}).update(_pairs(words[1:], where))
            groups = host_groups.setdefault(name, [])
            if section not in groups:
                groups.append(section)
    nodes = []
    for name, own in host_vars.items():
        merged: dict[str, str] = {}
        for group in _ancestors(host_groups[name], children):
            merged.update(group_vars.get(group, {}))
        merged.update(own)
        nodes.append(_node(name, merged, tuple(host_groups[name]), source))
    return nodes


def _ancestors(groups: list[str], children: dict[str, list[str]]) -> list[str]:
    """``all`` first, then the parents of each group, then the group: later ones win, as in Ansible."""
    parents = {child: parent for parent, kids in children.items() for child in kids}
    order: list[str] = []
    for group in groups:
        chain = [group]
        while chain[-1] in parents and parents[chain[-1]] not in chain:
            chain.append(parents[chain[-1]])
        for g in reversed(chain):
            if g not in order:
                order.append(g)
    return ["all", *[g for g in order if g != "all"]]


def _split_words(line: str, where: str) -> list[str]:
    import shlex
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise errors.InvalidArgument(f"{where}: {exc}") from None


def _pairs(words: list[str], where: str) -> dict[str, str]:
    out = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise errors.InvalidArgument(f"{where}: {word!r} is not key=value")
        out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Ansible YAML

def parse_yaml(text: str, *, source: str = "<fleet>") -> list[Node]:
    """An Ansible YAML inventory: groups with ``hosts``, ``vars`` and ``children``."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        raise errors.InvalidArgument(f"{source} is a YAML inventory, and PyYAML is not installed") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f":{line + 1}" if line is not None else ""
        raise errors.InvalidArgument(f"{source}{at}: not a YAML inventory: "
                                     f"{getattr(exc, 'problem', None) or exc}") from None
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise errors.InvalidArgument(f"{source}: a YAML inventory is a mapping of groups (all: hosts: ...)")
    found: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[str]] = {}
    for name, body in doc.items():
        _walk_group(str(name), body, {}, found, groups, source, depth=0)
    return [_node(name, {k: _scalar(v, name, k, source) for k, v in merged.items()},
                  tuple(groups[name]), source)
            for name, merged in found.items()]


def _walk_group(group: str, body: Any, inherited: dict, found: dict, groups: dict, source: str, *, depth: int) -> None:
    if depth > 50:
        raise errors.InvalidArgument(f"{source}: groups nested more than 50 deep")
    if body is None:
        return
    if not isinstance(body, dict):
        raise errors.InvalidArgument(f"{source}: group {group!r} is not a mapping (hosts:, vars:, children:)")
    unknown = set(body) - {"hosts", "vars", "children"}
    if unknown:
        raise errors.InvalidArgument(f"{source}: group {group!r} has {sorted(map(str, unknown))[0]!r}; "
                                     "a group holds hosts:, vars: and children:")
    own_vars = body.get("vars") or {}
    if not isinstance(own_vars, dict):
        raise errors.InvalidArgument(f"{source}: vars of group {group!r} is not a mapping")
    merged_vars = {**inherited, **own_vars}
    hosts = body.get("hosts") or {}
    if not isinstance(hosts, dict):
        raise errors.InvalidArgument(f"{source}: hosts of group {group!r} is not a mapping of host names")
    for host, hvars in hosts.items():
        name = str(host)
        if hvars is not None and not isinstance(hvars, dict):
            raise errors.InvalidArgument(f"{source}: host {name!r} in group {group!r}: its variables are not "
                                         "a mapping")
        found[name] = {**found.get(name, {}), **merged_vars, **(hvars or {})}
        member = groups.setdefault(name, [])
        if group not in member:
            member.append(group)
    kids = body.get("children") or {}
    if not isinstance(kids, dict):
        raise errors.InvalidArgument(f"{source}: children of group {group!r} is not a mapping of groups")
    for child, child_body in kids.items():
        _walk_group(str(child), child_body, merged_vars, found, groups, source, depth=depth + 1)


def _scalar(value: Any, host: str, key: str, source: str) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    if key in (*_HOST_VARS, *_PORT_VARS, *_USER_VARS, SOCKET_VAR):
        raise errors.InvalidArgument(f"{source}: host {host!r}: {key} is not a plain value")
    return ""  # other Ansible variables do not matter here


# ---------------------------------------------------------------------------------------------

def _node(name: str, variables: dict[str, str], groups: tuple[str, ...], source: str) -> Node:
    """A node from an Ansible host entry: the address built from its variables, then checked."""
    host = next((variables[k] for k in _HOST_VARS if variables.get(k)), name)
    port = next((variables[k] for k in _PORT_VARS if variables.get(k)), None)
    user = next((variables[k] for k in _USER_VARS if variables.get(k)), None)
    socket = variables.get(SOCKET_VAR) or addr.DEFAULT_SOCKET
    bracketed = f"[{host}]" if ":" in host else host
    text = f"{addr.SCHEME}{user + '@' if user else ''}{bracketed}{':' + port if port else ''}{socket}"
    try:
        address = addr.parse(text)
    except errors.InvalidArgument as exc:
        raise errors.InvalidArgument(f"{source}: host {name!r}: {exc.message}") from None
    if (address.host, address.user, address.socket) != (host, user, socket):
        # a '/', '@' or ':' inside one variable moved a boundary of the address: refuse, never guess
        raise errors.InvalidArgument(f"{source}: host {name!r}: ansible_host, ansible_user or {SOCKET_VAR} "
                                     f"holds a character that does not belong there ({text!r})")
    return Node(name=name, address=address, groups=groups)


__all__ = ["Node", "read_fleet", "parse_fleet", "parse_list", "parse_ini", "parse_yaml", "SOCKET_VAR"]
