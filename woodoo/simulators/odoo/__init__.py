"""A protocol-faithful Odoo JSON-RPC simulator on real HTTP, for tests and `woodoo demo`.

It answers what the real `odoorpc` client and raw JSON-RPC callers send to Odoo 16-18, the way
the Odoo 18 recordings in `tests/fixtures/odoo18/` show a real server answering: the JSON-RPC
envelope (request id echoed, no `result` key when a method returns None), `common.login` answering
false for a wrong password, the error objects (`code` 200, "Odoo Server Error", `data.name`,
`message`, `arguments`, `debug`, `context`), API keys working as the password on `/jsonrpc` only
(rpc.py, errors.py).

Stock is modelled the way Odoo keeps it: quants per (product, location), including the negative
ones in the non-internal "Inventory adjustment" and the customers' locations, and stock moves.
Quantities (`qty_available`, `free_qty`, `virtual_available`, ...) are computed from them with
the location selection of each version's `product.product._get_domain_locations`; see
`stock.selected_locations` for what was verified in which Odoo source.

It also keeps the configuration models `woodoo odoo setup-webhooks` reads and writes over RPC
(ir.model.fields and its selection values, ir.module.module, and create/write/unlink on
ir.actions.server and base.automation), with each version's field names and the way 17 and 18
recompute an automation rule's fields; see `configuration.configuration_schema` and
`Automation._recompute_automation`. Automation rules are stored, not run: stock changes do not
fire the simulated webhooks.

Sales (sale + sale_stock): res.partner search/create, sale.order create/write/action_confirm/
action_cancel and sale.order.line reads, with confirmation reserving stock in the order's warehouse
and cancellation releasing it, as recorded (06*); `deliver_order` ships an order. See `Sales` in
sales.py.

Everything is computed from the simulator's state; nothing is replayed from the recordings.
"""

from woodoo.simulators.odoo.errors import OdooFault
from woodoo.simulators.odoo.rpc import RpcCall
from woodoo.simulators.odoo.simulator import OdooSimulator
from woodoo.simulators.odoo.stock import CUSTOMERS, INVENTORY_ADJUSTMENT

__all__ = ["CUSTOMERS", "INVENTORY_ADJUSTMENT", "OdooFault", "OdooSimulator", "RpcCall"]
