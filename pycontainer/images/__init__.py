"""The local image store: content-addressed blobs, unpacked layers, names; pull/save/load."""
