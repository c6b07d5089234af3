"""The five services, one folder each: four pipeline stages and the notifier; no service imports another."""
