"""``blobctl du``: counts and bytes of blobs and ingests, plus the figures extensions add
(:data:`.common.DU_FIGURES`; :mod:`.graph` adds the image figures)."""

from __future__ import annotations

from .. import api, errors, humanfmt
from . import common
from .common import Context, command, list_ingests


def _du_arguments(p):
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--no-graph", action="store_true",
                   help="only count; skip the figures extensions add (images: shared, unique, "
                        "reclaimable), which read every manifest")


@command("du", help="count blobs and ingests and their bytes", arguments=_du_arguments)
def cmd_du(args, ctx: Context) -> int:
    store = ctx.store
    statuses, broken = list_ingests(store)
    figures = api.usage(store, statuses)
    figures["broken_ingest_count"] = len(broken)
    if not args.no_graph:
        for extra in common.DU_FIGURES:  # through the module, so a test can swap the list
            try:
                figures.update(extra(store))
            except errors.ContentError as exc:
                ctx.note(f"note: some figures are left out: {exc}")
    if args.json:
        ctx.json(figures)
        return 0
    rows = [["", "COUNT", "SIZE", "BYTES"],
            ["blobs", humanfmt.count(figures["blob_count"]), humanfmt.size(figures["blob_bytes"]),
             str(figures["blob_bytes"])],
            ["ingests", humanfmt.count(figures["ingest_count"]), humanfmt.size(figures["ingest_bytes"]),
             str(figures["ingest_bytes"])]]
    ctx.out.write(humanfmt.table(rows))
    known = {"blob_count", "blob_bytes", "ingest_count", "ingest_bytes"}
    for key, value in figures.items():
        if key in known or (key == "broken_ingest_count" and not value):
            continue
        shown = humanfmt.size(value) if key.endswith("_bytes") and isinstance(value, int) else value
        ctx.print(f"{key.replace('_', ' ')}: {shown}")
    return 0
