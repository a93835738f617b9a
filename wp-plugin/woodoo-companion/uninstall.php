<?php
/**
 * Uninstall: options (0.1's single secret too), the cached daemon status, the events and replay
 * tables, scheduled actions.
 *
 * @package WoodooCompanion
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;

$woodoo_options = array(
	'woodoo_companion_daemon_url',
	'woodoo_companion_events_secret',
	'woodoo_companion_stock_secret',
	'woodoo_companion_secret',
	'woodoo_companion_secret_replaced',
	'woodoo_companion_db_version',
);
foreach ( $woodoo_options as $woodoo_option ) {
	delete_option( $woodoo_option );
}
delete_transient( 'woodoo_companion_daemon_status' );

if ( function_exists( 'as_unschedule_all_actions' ) ) {
	as_unschedule_all_actions( 'woodoo_companion_deliver', array(), 'woodoo' );
	as_unschedule_all_actions( 'woodoo_companion_sweep', array(), 'woodoo' );
	as_unschedule_all_actions( '', array(), 'woodoo' );
}

$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}woodoo_events" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery.SchemaChange
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}woodoo_replay" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery.SchemaChange
