"""Test helpers shared by several test areas: a private containerd daemon and OCI image fixtures.

Nothing here imports ``store``: the helpers must work while the library is still being written.
"""
