"""Protocol-faithful simulators of Odoo's JSON-RPC API and WooCommerce's REST API, for tests and the demo."""
