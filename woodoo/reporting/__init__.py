"""Telling people: the nightly reconciliation and its report, the alerts, and sending mail."""
