<?php
/**
 * What the handlers of a bulk write's actions do again and again for nothing, left unsent.
 *
 * The bulk write fires, for each product it changed, the actions WooCommerce's own save fires
 * (class-woodoo-bulk-route.php). On WooCommerce 11.0.1 the functions hung on them spend most of a
 * bulk request (measured on a real shop, docs/benchmarks.md) on two kinds of statement whose
 * answer the request already knows:
 * - deleting what is not there: every woocommerce_update_product deletes seven shop-wide
 *   transients (ReportsSync::clear_stock_count_cache, WC_Brands), every set_object_terms the
 *   visibility terms' "product_ids" term meta (wc_clear_term_product_ids). Once deleted they stay
 *   absent, but delete_option() and delete_metadata() ask the database each time (one SELECT, no
 *   cache is asked);
 * - bumping a WooCommerce cache version (WC_Cache_Helper::get_transient_version( ..., true ), four
 *   times per product) to the same second it already holds: when another PHP worker wrote that
 *   second first, the UPDATE changes no row, update_option() then leaves its cache stale, and each
 *   later bump in that second costs a SELECT and an UPDATE of the same hot row again.
 *
 * While active (between start() and stop(), around the actions of one bulk request), this answers
 * those statements without sending them: a lookup of delete_option() for a transient, or of
 * delete_metadata() for a term meta key, that this request already saw answered "no row" is
 * answered "no row" (wpdb's result flushed, the query not sent); a version bump to the value this
 * request already sent for that option is skipped (update_option() returns false, as it does when
 * the row already holds it). Every action still fires as before (delete_transient_{name} fires
 * before the lookup; the actions after it never fired for an absent row); every row ends as before.
 * What this process adds (add_option(), set_transient(), add_term_meta()) is no longer known
 * absent; a row another process adds meanwhile is deleted by stop(), as the next product's handler
 * would have. The filter woodoo_bulk_quiet (return false) turns this off.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Known-absent rows and versions already sent, for the span of one bulk request.
 */
final class Woodoo_Bulk_Quiet {

	// The lookups of delete_option() and delete_metadata( 'term', ... ) in WordPress 6.x and 7.0,
	// exactly as $wpdb->prepare() spells them.
	const OPTION_LOOKUP   = "/\\ASELECT autoload FROM %s WHERE option_name = '(_transient_[^'\\\\]{1,180})'\\z/";
	const TERMMETA_LOOKUP = "/\\ASELECT meta_id FROM %s WHERE meta_key = '([^'\\\\]{1,180})' AND term_id = (\\d{1,19})\\z/";
	const VERSION         = '/\\A_transient_[a-z0-9_\\-]{1,100}-transient-version\\z/';

	/**
	 * Whether start() was called and stop() not yet.
	 *
	 * @var bool
	 */
	private static $active = false;

	/**
	 * Rows known absent: 'option|name' or 'termmeta|key|term_id' => true.
	 *
	 * @var array
	 */
	private static $absent = array();

	/**
	 * The lookup just sent (key and SQL), to learn its answer at the next statement.
	 *
	 * @var array|null
	 */
	private static $pending = null;

	/**
	 * Lookups answered here without the database (key => true), checked again by stop().
	 *
	 * @var array
	 */
	private static $answered = array();

	/**
	 * Version values sent in this request: option => value.
	 *
	 * @var array
	 */
	private static $versions = array();

	/**
	 * From now until stop(): answer the lookups and skip the bumps this request knows.
	 */
	public static function start() {
		/**
		 * Whether the bulk write may answer the handlers' known statements itself (true); false
		 * sends every statement, as WordPress does.
		 *
		 * @param bool $quiet Default true.
		 */
		if ( self::$active || ! apply_filters( 'woodoo_bulk_quiet', true ) ) {
			return;
		}
		self::$active   = true;
		self::$absent   = array();
		self::$pending  = null;
		self::$answered = array();
		self::$versions = array();
		add_filter( 'query', array( __CLASS__, 'query' ), PHP_INT_MAX );
		add_filter( 'pre_update_option', array( __CLASS__, 'pre_update_option' ), PHP_INT_MAX, 3 );
		add_action( 'update_option', array( __CLASS__, 'update_option' ), PHP_INT_MIN, 3 );
		add_action( 'added_option', array( __CLASS__, 'added_option' ), PHP_INT_MIN, 1 );
		add_action( 'added_term_meta', array( __CLASS__, 'added_term_meta' ), PHP_INT_MIN, 3 );
	}

	/**
	 * Back to WordPress's own ways; a row the lookups answered absent that another process added
	 * meanwhile is deleted now, as the handlers would have.
	 */
	public static function stop() {
		global $wpdb;
		if ( ! self::$active ) {
			return;
		}
		remove_filter( 'query', array( __CLASS__, 'query' ), PHP_INT_MAX );
		remove_filter( 'pre_update_option', array( __CLASS__, 'pre_update_option' ), PHP_INT_MAX );
		remove_action( 'update_option', array( __CLASS__, 'update_option' ), PHP_INT_MIN );
		remove_action( 'added_option', array( __CLASS__, 'added_option' ), PHP_INT_MIN );
		remove_action( 'added_term_meta', array( __CLASS__, 'added_term_meta' ), PHP_INT_MIN );
		self::$active = false;
		$options      = array();
		$terms        = array();
		foreach ( array_keys( self::$answered ) as $key ) {
			$parts = explode( '|', $key );
			if ( 'option' === $parts[0] ) {
				$options[] = $parts[1];
			} else {
				$terms[ $parts[2] ][] = $parts[1];
			}
		}
		if ( $options ) {
			$found = $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name IN ('" . implode( "','", array_map( 'esc_sql', $options ) ) . "')" ); // phpcs:ignore WordPress.DB
			foreach ( (array) $found as $name ) {
				delete_transient( substr( $name, strlen( '_transient_' ) ) );
			}
		}
		foreach ( $terms as $term_id => $keys ) {
			$found = $wpdb->get_col( $wpdb->prepare( "SELECT DISTINCT meta_key FROM {$wpdb->termmeta} WHERE term_id = %d AND meta_key IN ('" . implode( "','", array_map( 'esc_sql', $keys ) ) . "')", $term_id ) ); // phpcs:ignore WordPress.DB
			foreach ( (array) $found as $key ) {
				delete_term_meta( (int) $term_id, $key );
			}
		}
		self::$absent   = array();
		self::$pending  = null;
		self::$answered = array();
		self::$versions = array();
	}

	/**
	 * The 'query' filter: learns the answer of the lookup sent before; answers a known one.
	 *
	 * @param string $query SQL about to be sent.
	 * @return string The SQL, or '' (not sent) with wpdb's last result emptied.
	 */
	public static function query( $query ) {
		global $wpdb;
		if ( null !== self::$pending ) {
			// wpdb flushes its last result after this filter: it still holds the lookup's answer.
			if ( $wpdb->last_query === self::$pending[1] && '' === (string) $wpdb->last_error && 0 === (int) $wpdb->num_rows ) {
				self::$absent[ self::$pending[0] ] = true;
			}
			self::$pending = null;
		}
		$key = self::lookup_key( (string) $query );
		if ( null === $key ) {
			return $query;
		}
		if ( isset( self::$absent[ $key ] ) ) {
			self::$answered[ $key ] = true;
			$wpdb->flush(); // get_row() and get_col() read last_result: empty, as for no row.
			return '';
		}
		self::$pending = array( $key, $query );
		return $query;
	}

	/**
	 * The known-row key a lookup statement asks about, or null for any other statement.
	 *
	 * @param string $query SQL.
	 * @return string|null
	 */
	private static function lookup_key( $query ) {
		global $wpdb;
		if ( 0 !== strncmp( $query, 'SELECT ', 7 ) ) {
			return null;
		}
		if ( preg_match( sprintf( self::OPTION_LOOKUP, preg_quote( $wpdb->options, '/' ) ), $query, $match ) ) {
			return 'option|' . $match[1];
		}
		if ( preg_match( sprintf( self::TERMMETA_LOOKUP, preg_quote( $wpdb->termmeta, '/' ) ), $query, $match ) ) {
			return 'termmeta|' . $match[1] . '|' . $match[2];
		}
		return null;
	}

	/**
	 * 'pre_update_option': a version bump to the value already sent in this request is skipped.
	 *
	 * @param mixed  $value     New value.
	 * @param string $option    Option name.
	 * @param mixed  $old_value Value update_option() holds (stale when another worker wrote).
	 * @return mixed
	 */
	public static function pre_update_option( $value, $option, $old_value ) {
		if ( is_string( $value ) && isset( self::$versions[ $option ] ) && self::$versions[ $option ] === $value ) {
			return $old_value; // update_option() then returns false, as after an UPDATE of no row.
		}
		return $value;
	}

	/**
	 * 'update_option' (just before the UPDATE): remembers the version value sent.
	 *
	 * @param string $option    Option name.
	 * @param mixed  $old_value Old value.
	 * @param mixed  $value     New value.
	 */
	public static function update_option( $option, $old_value, $value ) {
		if ( is_string( $value ) && preg_match( self::VERSION, (string) $option ) ) {
			self::$versions[ $option ] = $value;
		}
		unset( self::$absent[ 'option|' . $option ], self::$answered[ 'option|' . $option ] );
	}

	/**
	 * 'added_option': that option is there now.
	 *
	 * @param string $option Option name.
	 */
	public static function added_option( $option ) {
		unset( self::$absent[ 'option|' . $option ], self::$answered[ 'option|' . $option ] );
	}

	/**
	 * 'added_term_meta': that term meta is there now.
	 *
	 * @param int    $meta_id  Meta id.
	 * @param int    $term_id  Term id.
	 * @param string $meta_key Key.
	 */
	public static function added_term_meta( $meta_id, $term_id, $meta_key ) {
		unset( self::$absent[ 'termmeta|' . $meta_key . '|' . (int) $term_id ], self::$answered[ 'termmeta|' . $meta_key . '|' . (int) $term_id ] );
	}
}
