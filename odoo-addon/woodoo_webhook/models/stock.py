# Part of woodoo_webhook. License LGPL-3.
"""`_woodoo_notify()` on quants and moves, for an automated action's "Execute Code"."""

from odoo import models

from ..lib import payload as woodoo_payload

SKU_FIELDS = ("default_code", "barcode")


def _sku_field(env):
    """The product field sent as SKU (system parameter woodoo_webhook.sku_field)."""
    name = env["ir.config_parameter"].sudo().get_param("woodoo_webhook.sku_field")
    return name if name in SKU_FIELDS else "default_code"


def _location(location):
    """(usage, warehouse code) of a location: whether its stock counts, and where."""
    return (location.usage or "", location.warehouse_id.code or None)


def _sku(product, field_name):
    value = product[field_name]
    return value.strip() if isinstance(value, str) and value.strip() else None


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _woodoo_notify(self):
        """Queue one signed Woodoo event for these quants' products; skip non-internal ones."""
        sku_field = _sku_field(self.env)
        lines = [
            woodoo_payload.StockLine(quant.id, quant.product_id.id,
                                     _sku(quant.product_id, sku_field),
                                     (_location(quant.location_id),))
            for quant in self.sudo()
        ]
        return self.env["woodoo.webhook.event"]._woodoo_enqueue(self._name, lines)


class StockMove(models.Model):
    """Woodoo's setup no longer makes a rule on moves (every done move that changes sellable
    stock also writes a quant, which the quant rule sees); a move rule made by an older Woodoo
    still calls this until `woodoo odoo setup-webhooks` archives it, and must not fail."""

    _inherit = "stock.move"

    def _woodoo_notify(self):
        """Queue one signed Woodoo event for these moves' products (those touching stock)."""
        sku_field = _sku_field(self.env)
        lines = [
            woodoo_payload.StockLine(move.id, move.product_id.id,
                                     _sku(move.product_id, sku_field),
                                     (_location(move.location_id),
                                      _location(move.location_dest_id)))
            for move in self.sudo()
        ]
        return self.env["woodoo.webhook.event"]._woodoo_enqueue(self._name, lines)
