"""Shop orders: pending stock and the one sale order per shop order (sync), and the backfill that
reads orders whose event never arrived."""
