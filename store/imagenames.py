"""What an image is called: its image records' names, else its annotations, else nothing.

containerd names an image by a record (``meta.db``'s ``images`` bucket, or the daemon's Images
service) whose target is the image's index or manifest; several records may name one digest.
A digest no record names may still carry a name in the annotations of a descriptor pointing
at it (or of the document itself): ``io.containerd.image.name`` (what ``ctr export`` writes,
a full reference) or ``org.opencontainers.image.ref.name`` (the OCI layout's name, often a
bare tag).  The Images tab, ``blobctl tree``/``du`` and the Disk tab's owners all name images
through :func:`annotated_name` and :func:`recorded_names`, so they agree.
"""

from __future__ import annotations

import logging
from typing import Iterable, Mapping

log = logging.getLogger(__name__)

REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"
NAME_KEYS = (REF_NAME, IMAGE_NAME)  # in each annotation set, the first of these present wins


def annotated_name(annotation_sets: Iterable[object]) -> str:
    """The first name found in ``annotation_sets`` (annotation dicts, in the order to trust them),
    checking :data:`REF_NAME` then :data:`IMAGE_NAME` in each; '' when none has one.

    Anything that is not a dict, and any value that is not a non-empty string, is skipped
    (annotations come from documents anyone could write).
    """
    for a in annotation_sets:
        if not isinstance(a, Mapping):
            continue
        for key in NAME_KEYS:
            value = a.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


__all__ = ["IMAGE_NAME", "NAME_KEYS", "REF_NAME", "annotated_name"]
