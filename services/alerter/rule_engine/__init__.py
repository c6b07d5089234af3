"""The rule engine: watch rules as written (YAML or API), compiled, and evaluated on enriched articles.

It owns the rule language (``conditions.py``, ``rules.py``), its evaluation (``matching.py`` over
``article_words.py``) and the live rule set (``rulebook.py``: the rule file plus the API's rules in
``rule_store.py``). It knows nothing of Kafka, alerts or webhooks: ``newsmon rules test`` runs it
offline on files.
"""
