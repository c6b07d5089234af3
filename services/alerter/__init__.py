"""The alerter stage: watch rules on ``articles.enriched`` -> ``alerts``, signed webhooks, subscriptions."""
