"""The notifier: who hears an alert, in which format and when (subscriptions, channels, digests, silences)."""
