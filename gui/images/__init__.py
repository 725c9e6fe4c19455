"""The Images tab and the layer browser, on the image graph."""
