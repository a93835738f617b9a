# Part of woodoo_webhook. License LGPL-3.
# Plain Python, no Odoo import: tested by Woodoo's CI (tests/test_odoo_addon.py) without Odoo.
