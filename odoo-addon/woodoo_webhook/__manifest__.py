# Part of woodoo_webhook. License LGPL-3.
{
    "name": "Woodoo Webhook",
    "summary": "Signed, durable stock-change webhooks from Odoo to the Woodoo daemon",
    "description": """
Sends an HMAC-signed event to the Woodoo daemon when stock changes, from automated actions
calling records._woodoo_notify() on stock.quant and stock.move. Events are queued in the same
transaction as the stock change, sent right after it commits, and retried by a cron.
See README.md.
""",
    "version": "1.0.0",
    "category": "Inventory/Inventory",
    "author": "Woodoo",
    "license": "LGPL-3",
    "depends": ["stock", "base_automation"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_config_parameter.xml",
        "data/ir_cron.xml",
    ],
    "installable": True,
    "application": False,
}
