"""One readable file per model (nanoGPT style)."""
