"""The web view: server-rendered pages over the same store and the same decisions."""
