"""The alerter stage: watch rules on ``articles.enriched`` -> ``alerts``, and the rule API."""
