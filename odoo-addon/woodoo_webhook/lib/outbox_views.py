# Part of woodoo_webhook. License LGPL-3.
"""The outbox's list view, whose root element depends on the Odoo version. No Odoo import.

Odoo 17 declares list views as `<tree>` and Odoo 18 as `<list>`, and neither accepts the other's:
17's ir.ui.view.type has 'tree' and no 'list', 18's has 'list' and no 'tree', and both versions'
ir.ui.view.create() take the view type from the arch's root tag, so the wrong tag fails the
install with an invalid selection value (18's tools/convert.py does not rename it either).
The XML data files therefore cannot hold this one view; the module writes it at install and
update (WoodooWebhookEvent._woodoo_load_list_view) with the tag the running Odoo knows. The form
and search views, the action and the menu are the same in both and stay in
views/woodoo_webhook_event_views.xml. Read in public copies of odoo/addons/base/models/ir_ui_view.py
(17: UmmeHani-SCI/Odoo17-UH_Hospital_Management @ 02f3b73; 18.0: chamorata/odoo @ 99f73ba).
"""

LIST_TAGS = ("list", "tree")  # Odoo 18, Odoo 17

_LIST_VIEW = """\
<{tag} create="0"
       decoration-danger="state == 'failed'"
       decoration-warning="state == 'pending' and attempts > 0"
       decoration-muted="state == 'sent'">
    <header>
        <button name="action_send_now" type="object" string="Send now"/>
    </header>
    <field name="create_date" string="Created"/>
    <field name="event_id"/>
    <field name="state" widget="badge"
           decoration-danger="state == 'failed'"
           decoration-warning="state == 'pending'"
           decoration-success="state == 'sent'"/>
    <field name="attempts"/>
    <field name="next_attempt"/>
    <field name="last_error" optional="show"/>
    <field name="target" optional="show"/>
    <field name="sent_at" optional="hide"/>
    <field name="source_model" optional="hide"/>
    <button name="action_send_now" type="object" string="Send now" icon="fa-paper-plane"
            title="Send now" invisible="state == 'sent'"/>
</{tag}>
"""


def list_view_arch(tag):
    """The list view's arch with `tag` ('list' on Odoo 18, 'tree' on 17) as its root."""
    if tag not in LIST_TAGS:
        raise ValueError(f"list views are <list> (Odoo 18) or <tree> (Odoo 17), not <{tag}>")
    return _LIST_VIEW.format(tag=tag)


def list_tag(view_types):
    """The list view tag among the view types the running Odoo's ir.ui.view accepts."""
    for tag in LIST_TAGS:
        if tag in view_types:
            return tag
    raise ValueError(f"this Odoo knows neither <list> nor <tree> views: {sorted(view_types)}")
