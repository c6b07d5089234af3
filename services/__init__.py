"""The four pipeline stages; each folder is one service and never imports another."""
