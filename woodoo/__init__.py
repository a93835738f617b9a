"""Woodoo keeps a WooCommerce shop's stock true to Odoo."""

__version__ = "0.1.0"
