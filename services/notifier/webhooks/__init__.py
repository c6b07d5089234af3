"""Webhook delivery: the durable per-(alert, target) queue in Redis, signed POSTs, subscriptions.

It owns what happens after an alert is published: ``queue.py`` (enqueue once per target, claim,
settle, replay), ``delivery.py`` (the workers that POST and retry), ``signing.py`` (Standard
Webhooks signatures), ``subscriptions.py`` (subscribers and their secrets) and ``url_safety.py``
(refusing URLs inside the network). It knows nothing of rules.
"""
