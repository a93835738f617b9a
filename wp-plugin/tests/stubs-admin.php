<?php
/**
 * Admin-only stand-ins (nonce URLs).
 *
 * @package WoodooCompanion
 */

if ( ! function_exists( 'wp_nonce_url' ) ) {
	function wp_nonce_url( $url, $action = -1 ) {
		return $url . ( false === strpos( $url, '?' ) ? '?' : '&' ) . '_wpnonce=' . substr( md5( (string) $action ), 0, 10 );
	}
}
