"""Notifications: an in-app list per user and, where an SMTP server is configured, e-mail.

Scheduled jobs (supply.jobs) decide what needs a person and call `notify`: it finds the people
by role (or a project's managers), writes one notification per person and reminder — never a
second for the same reminder (a unique key) — and sends the new ones by e-mail (`mail`).
"""
