"""The remote sides behind a few methods each: Odoo (JSON-RPC), WooCommerce (REST and the
Companion plugin's routes), retries with backoff and a circuit breaker per side."""
