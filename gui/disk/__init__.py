"""The Disk tab: a containerd root's bytes as a treemap and a tree, coloured by who keeps them."""
