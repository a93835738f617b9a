# Part of woodoo_webhook. License LGPL-3.
{
    "name": "Woodoo Webhook",
    "summary": "Signed, durable stock-change webhooks from Odoo to the Woodoo daemon",
    "description": """
Sends an HMAC-signed event to the Woodoo daemon when stock changes, from an automated action
calling records._woodoo_notify() on stock.quant. Events are queued in the same transaction as the
stock change and sent by the cron worker once it commits (never in the user's request), with
retries. Inventory administrators watch the outbox, and send failed events again, under
Inventory > Configuration > Woodoo outbox. See README.md.
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
        "views/woodoo_webhook_event_views.xml",
    ],
    "installable": True,
    "application": False,
}
