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
 * The same table holds the flush route's lock (lock(), unlock()): a row whose digest no request
 * can have, taken by the same atomic INSERT IGNORE, and forgotten like a request once it expires,
 * so a flush whose PHP worker died holds it for at most its time to live.
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
	 * Takes the lock $name until $now + $ttl unless someone holds it: the expiry (the key to
	 * unlock()) when taken, 0 when held, self::NO_MEMORY when the table cannot be written.
	 *
	 * @param string $name Lock name.
	 * @param int    $now  Clock.
	 * @param int    $ttl  Seconds the lock lives at most (longer than the work it guards).
	 * @return int|string
	 */
	public static function lock( $name, $now, $ttl ) {
		global $wpdb;
		$table   = self::table();
		$expires = (int) $now + (int) $ttl;
		self::forget_expired( $now );
		$rows = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$table} (digest, expires_at) VALUES (%s, %d)", self::lock_digest( $name ), $expires ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
		if ( false === $rows ) {
			return self::NO_MEMORY;
		}
		return 1 === (int) $rows ? $expires : 0;
	}

	/**
	 * Releases the lock $name taken by lock() with this expiry (never someone else's: if ours
	 * expired and another took it, its expiry differs).
	 *
	 * @param string $name    Lock name.
	 * @param int    $expires What lock() returned.
	 */
	public static function unlock( $name, $expires ) {
		global $wpdb;
		$table = self::table();
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE digest = %s AND expires_at = %d", self::lock_digest( $name ), (int) $expires ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
	}

	/**
	 * The digest a lock is stored under: not the SHA-256 of any "t.route.body" anyone can sign.
	 *
	 * @param string $name Lock name.
	 * @return string 64 hex digits.
	 */
	public static function lock_digest( $name ) {
		return hash( 'sha256', 'woodoo-lock:' . $name );
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
