"""Woodoo keeps a WooCommerce shop's stock true to Odoo."""

__version__ = "1.0.0"
