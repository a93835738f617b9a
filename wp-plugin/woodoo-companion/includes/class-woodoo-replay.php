<?php
/**
 * Replay memory of the stock route: every accepted signed request, for as long as its signature
 * could be accepted again ({prefix}woodoo_replay).
 *
 * A signature is valid for Woodoo_Signer::TOLERANCE seconds around its timestamp, so whoever sees
 * a signed stock write (a proxy log, a TLS-terminating middlebox) could send it again in that
 * window and set the stock back. The memory is a table with the request's digest as primary key:
 * the INSERT is the check, so two identical requests arriving together on two PHP workers cannot
 * both pass (the database's unique key decides, atomically). Options or transients would not do:
 * add_option() turns a duplicate into an update (ON DUPLICATE KEY UPDATE), and transients may live
 * in a per-server object cache.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Replay memory.
 */
final class Woodoo_Replay {

	const FIRST     = 'first';       // Never seen: go ahead.
	const REPLAYED  = 'replayed';    // Seen before: refuse.
	const NO_MEMORY = 'unavailable'; // The table is missing or the database failed: refuse.

	/**
	 * The table.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'woodoo_replay';
	}

	/**
	 * The table's CREATE statement for dbDelta (Woodoo_Queue::install()).
	 *
	 * @param string $charset Charset and collation clause.
	 * @return string
	 */
	public static function schema( $charset ) {
		$table = self::table();
		return "CREATE TABLE {$table} (
  digest char(64) NOT NULL,
  expires_at bigint(20) unsigned NOT NULL,
  PRIMARY KEY  (digest),
  KEY expires_at (expires_at)
) {$charset};";
	}

	/**
	 * The digest a request is remembered by.
	 *
	 * The signed message, not the header's text: the same request with its v2 entries reordered,
	 * upper-cased or padded with other v2 entries is still the same request.
	 *
	 * @param int    $timestamp Signed timestamp.
	 * @param string $route     Logical route.
	 * @param string $body      Raw body.
	 * @return string 64 hex digits.
	 */
	public static function digest( $timestamp, $route, $body ) {
		return hash( 'sha256', (int) $timestamp . '.' . $route . '.' . $body );
	}

	/**
	 * Remembers a request unless it was seen before: self::FIRST, self::REPLAYED or self::NO_MEMORY.
	 *
	 * @param string $digest    self::digest().
	 * @param int    $timestamp Signed timestamp (the signature is accepted until $timestamp + tolerance).
	 * @param int    $now       Clock, the same the signature was checked with.
	 * @param int    $tolerance Signature tolerance in seconds.
	 * @return string
	 */
	public static function claim( $digest, $timestamp, $now, $tolerance = Woodoo_Signer::TOLERANCE ) {
		global $wpdb;
		$table = self::table();
		self::forget_expired( $now );
		// INSERT IGNORE: 1 row when new, 0 when the digest is already there, false on a database error.
		$rows = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$table} (digest, expires_at) VALUES (%s, %d)", $digest, (int) $timestamp + (int) $tolerance ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
		if ( false === $rows ) {
			return self::NO_MEMORY;
		}
		return 1 === (int) $rows ? self::FIRST : self::REPLAYED;
	}

	/**
	 * Forgets requests whose signature can no longer be accepted anyway.
	 *
	 * Strictly before $now: at $now === expiry the signature is still inside the tolerance.
	 *
	 * @param int $now Clock.
	 */
	public static function forget_expired( $now ) {
		global $wpdb;
		$table = self::table();
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE expires_at < %d", (int) $now ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
	}
}
