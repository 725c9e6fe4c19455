"""``blobctl layers IMAGE``: an image's layers as dive shows them, read from the store without
pulling or unpacking anything (:mod:`store.squash`), and dive's CI check (``--ci``).
"""

from __future__ import annotations

from .. import errors, humanfmt, imagepick, squash
from ..digest import Digest
from .common import CliError, command

#: exit status of ``--ci`` when the image fails a threshold (dive's CI mode fails with 1 too)
CI_FAILED = 1


def _arguments(p) -> None:
    p.add_argument("image", metavar="IMAGE",
                   help="an index or manifest digest, an unambiguous hex prefix, or an image name (the image "
                        "records of a containerd root or daemon, else the store's ref.name annotations)")
    p.add_argument("--platform", metavar="OS/ARCH", help="with an index: this platform (default: the host's, "
                   "else the index's first manifest)")
    p.add_argument("--json", action="store_true", help="print one JSON object (see docs/blobctl.md)")
    p.add_argument("--changes", action="store_true", help="with --json: each layer's changed paths too")
    p.add_argument("--files", action="store_true", help="with --json: every path of the squashed file system")
    p.add_argument("--ci", action="store_true",
                   help="exit 1, saying why in one line, when the image fails a threshold (as dive --ci does)")
    p.add_argument("--lowest-efficiency", type=float, metavar="RATIO", default=0.9,
                   help="with --ci: the lowest efficiency allowed, 0 to 1 (default 0.9)")
    p.add_argument("--highest-wasted-bytes", metavar="SIZE", default=None,
                   help="with --ci: the most wasted bytes allowed (e.g. 20MB, 1.5GiB; default: not checked)")
    p.add_argument("--dive-figures", action="store_true",
                   help="with --ci: judge dive's own efficiency and wasted bytes (see docs/blobctl.md), not ours")


_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4, "K": 1000, "M": 1000**2, "G": 1000**3}


def parse_size(text: str) -> int:
    """``20MB``, ``1.5GiB``, ``4096``: bytes (as dive reads ``--highest-wasted-bytes``)."""
    t = text.strip().upper().replace(" ", "")
    num = t.rstrip("KMGTIB")
    unit = t[len(num):]
    try:
        value = float(num)
    except ValueError:
        raise CliError(f"--highest-wasted-bytes: {text!r} is not a size (e.g. 20MB, 1.5GiB, 4096)") from None
    if unit not in _UNITS or value < 0:
        raise CliError(f"--highest-wasted-bytes: {text!r} is not a size (e.g. 20MB, 1.5GiB, 4096)")
    return int(value * _UNITS[unit])


def record_names(store, ctx) -> dict[str, str]:
    """Image name -> target digest from containerd's image records (:func:`store.disk.image_records.recorded_names`:
    ``meta.db`` of a containerd root, or the daemon's Images service); empty for a plain content store."""
    del ctx  # the store knows where its records are
    from ..disk.image_records import recorded_names
    return {name: target for target, names in recorded_names(store).items() for name in names}


def find_image(store, text: str, ctx=None) -> Digest:
    """A digest given whole; else an image record's name (a containerd root or daemon), else a hex
    prefix or an image name looked up in the store's image graph."""
    try:
        return Digest(text)
    except errors.InvalidArgument:
        pass
    if ctx is not None:
        target = record_names(store, ctx).get(text)
        if target:
            return Digest(target)
    from .graph import open_graph, resolve
    g = open_graph(store)
    named = sorted({r.digest for r in g.image_roots() if g.image_name(r.digest) == text})
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise CliError(f"{len(named)} images are named {text!r}; give a digest")
    try:
        return resolve(g, text)
    except errors.InvalidArgument:
        raise errors.NotFound(f"no image is named {text!r} and it is not a digest or a hex prefix of one") from None


def text_lines(a: squash.Analysis) -> list[str]:
    lines = [f"image {a.image}" + (f"  {a.platform}" if a.platform else ""),
             f"manifest {a.manifest}", ""]
    rows = [["#", "LAYER", "SIZE", "FILES", "ADDED", "MODIFIED", "DELETED"]]
    for x in a.layers:
        rows.append([str(x.index), Digest(x.digest).short(12) if x.digest.startswith("sha256:") else x.digest,
                     humanfmt.size(x.blob_size), humanfmt.size(x.file_bytes),
                     f"{x.added} ({humanfmt.size(x.added_bytes)})",
                     f"{x.modified} ({humanfmt.size(x.modified_bytes)})",
                     f"{x.deleted} ({humanfmt.size(x.deleted_bytes)})" + ("  DAMAGED" if x.error else "")])
    lines.append(humanfmt.table(rows).rstrip("\n"))
    lines += ["",
              f"files in all layers: {humanfmt.size(a.total_bytes)}",
              f"squashed image:      {humanfmt.size(a.squashed_bytes)} in {a.root.count() - 1:,} paths",
              f"wasted:              {humanfmt.size(a.wasted_bytes)}",
              f"efficiency:          {a.efficiency * 100:.2f} %",
              f"dive's figures:      efficiency {a.dive_efficiency * 100:.2f} %, "
              f"wasted {humanfmt.size(a.dive_wasted_bytes)}"]
    if a.problem_count:
        lines.append(f"problems ({a.problem_count}):")
        lines += [f"  {humanfmt.printable(p)}" for p in a.problems]
    return lines


def ci_failure(a: squash.Analysis, lowest: float, highest_wasted: int | None, *, dive: bool = False) -> str | None:
    """Why the image fails dive's CI rules, in one line; ``None`` when it passes.  ``dive``: judge
    dive's own figures rather than ours."""
    efficiency, wasted = (a.dive_efficiency, a.dive_wasted_bytes) if dive else (a.efficiency, a.wasted_bytes)
    whose = "dive's " if dive else ""
    if efficiency < lowest:
        return f"{whose}efficiency {efficiency:.4f} is below the lowest allowed, {lowest:g}"
    if highest_wasted is not None and wasted > highest_wasted:
        return (f"{whose}wasted bytes {wasted} ({humanfmt.size(wasted)}) are above the highest "
                f"allowed, {highest_wasted}")
    if not a.complete:
        return "a layer could not be read whole; the figures are incomplete"
    return None


@command("layers", help="an image's layers as dive shows them: changes per layer, squashed size, wasted space",
         arguments=_arguments)
def cmd_layers(args, ctx) -> int:
    if not 0.0 <= args.lowest_efficiency <= 1.0:
        raise CliError(f"--lowest-efficiency must be between 0 and 1, not {args.lowest_efficiency:g}")
    highest = parse_size(args.highest_wasted_bytes) if args.highest_wasted_bytes is not None else None
    store = ctx.store
    image = imagepick.resolve(store, find_image(store, args.image, ctx), platform=args.platform)
    a = squash.analyse(store, image, keep_changes=bool(args.changes))
    failure = ci_failure(a, args.lowest_efficiency, highest, dive=args.dive_figures) if args.ci else None
    if args.json:
        doc = a.to_json(changes=args.changes, files=args.files)
        if args.ci:
            doc["ci"] = {"pass": failure is None, "reason": failure or "",
                         "lowest_efficiency": args.lowest_efficiency, "highest_wasted_bytes": highest,
                         "figures": "dive" if args.dive_figures else "blobscope"}
        ctx.json(doc)
    else:
        for line in text_lines(a):
            ctx.print(line)
        if args.ci:
            ctx.print(f"CI: {'PASS' if failure is None else 'FAIL'}")
    if failure is not None:
        ctx.note(f"ci: FAIL: {failure}")
        return CI_FAILED
    return 0
