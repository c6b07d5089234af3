"""Delivery: the durable per-(message, target) queue in Redis, the attempts, subscriptions.

It owns what happens after the notifier routes an alert: ``queue.py`` (enqueue once per target, claim,
settle, replay; its atomic Redis steps in ``queue_scripts.py``), ``delivery.py`` (the workers that
attempt and retry), ``sending.py`` (one attempt, in the target's format), ``attempt_results.py`` and
``scheduling.py`` (what an answer means, when to try again), ``signing.py`` (Standard Webhooks
signatures), ``subscriptions.py`` (subscribers and their secrets) and ``url_safety.py`` (refusing URLs
inside the network). It knows nothing of rules.
"""
