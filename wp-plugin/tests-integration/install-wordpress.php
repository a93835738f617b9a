<?php
/**
 * Installs WordPress into the test database (run once per test run by bootstrap.php, in its own
 * PHP process: WP_INSTALLING changes how WordPress behaves, e.g. it keeps transients out of the
 * options table, so the tests must not run under it). The tables recorded from the real store
 * already exist (bootstrap.php creates them from the fixture's schema); wp_install() fills them.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals
require __DIR__ . '/config.php';
define( 'WP_INSTALLING', true );
$table_prefix = 'wp_';

/**
 * No mail about the new site (wp_install() sends one; pluggable, so defined first).
 */
function wp_new_blog_notification() {
}

require_once ABSPATH . 'wp-settings.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
// Offline: wp_install() probes the permalinks over HTTP.
add_filter(
	'pre_http_request',
	static function () {
		return new WP_Error( 'offline', 'the integration tests make no HTTP requests' );
	}
);
$result = wp_install( 'Woodoo integration tests', 'admin', 'admin@shop.test', true, '', 'password' );
if ( ! is_array( $result ) || empty( $result['user_id'] ) ) {
	fwrite( STDERR, "wp_install() failed\n" );
	exit( 1 );
}
echo "installed\n";
