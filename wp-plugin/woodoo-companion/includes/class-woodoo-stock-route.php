<?php
/**
 * POST /wp-json/woodoo/v1/stock: the daemon's conditional stock writes (docs/order-events.md §2).
 *
 * Authenticated by the Woodoo signature over the raw body for the route "POST /woodoo/v1/stock",
 * with the stock secret (no WordPress user); a signed request is applied once (Woodoo_Replay).
 * Each item is a compare-and-set of _stock in one UPDATE, so a checkout that lowered the stock
 * after the daemon looked wins, and the daemon is told the current figure instead.
 *
 * Refusals, with nothing written: 503 not_configured (no usable stock secret), 400 too_large,
 * 401 missing_signature / bad_signature / stale_timestamp, 400 schema (with the field), 409
 * replayed, 503 replay_unavailable (the replay memory cannot be written: fail closed).
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * The stock route.
 */
final class Woodoo_Stock_Route {

	const NAMESPACE_V1 = 'woodoo/v1';
	const ROUTE        = '/stock';
	const MAX_BODY     = 65536;
	const MAX_ITEMS    = 100;
	const MAX_DEPTH    = 4;          // {"items": [{"id": 1}]} is 4 deep to json_decode (values count).
	const MAX_QUANTITY = 1000000000;
	const MAX_ID       = 9007199254740992; // 2^53: exact in every JSON reader and in a 64-bit PHP int.

	/**
	 * Adds the hooks.
	 */
	public static function register() {
		add_action( 'rest_api_init', array( __CLASS__, 'register_route' ) );
	}

	/**
	 * Registers the route. Authorisation is the signature, checked over the raw body in handle().
	 */
	public static function register_route() {
		Woodoo_Answer::register( self::ROUTE, array( __CLASS__, 'rest' ) );
	}

	/**
	 * REST callback.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response
	 */
	public static function rest( $request ) {
		return Woodoo_Answer::respond( $request, array( __CLASS__, 'handle' ) );
	}

	/**
	 * The whole request: array( HTTP status, response data ).
	 *
	 * @param string      $body   Raw body.
	 * @param string|null $header X-Woodoo-Signature.
	 * @param int|null    $now    Clock.
	 * @return array
	 */
	public static function handle( $body, $header, $now = null ) {
		$now     = null === $now ? time() : (int) $now;
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK );
		if ( null !== $problem ) {
			return Woodoo_Answer::error( 503, 'not_configured', $problem . '; the stock route refuses every write until it is set' );
		}
		$body = is_string( $body ) ? $body : '';
		if ( strlen( $body ) > self::MAX_BODY ) {
			return Woodoo_Answer::error( 400, 'too_large', 'body larger than ' . self::MAX_BODY . ' bytes' );
		}
		$signed = Woodoo_Signer::inspect( $body, $header, array( Woodoo_Settings::stock_secret() ), Woodoo_Signer::PLUGIN_STOCK, $now );
		if ( isset( $signed['code'] ) ) {
			return Woodoo_Answer::error( 401, $signed['code'], $signed['message'] );
		}
		$items = self::validate( $body );
		if ( isset( $items['error'] ) ) {
			return Woodoo_Answer::error( 400, 'schema', $items['error'], $items['field'] );
		}
		// Claimed after the checks, just before writing: a refused request wrote nothing to replay.
		$memory = Woodoo_Replay::claim( Woodoo_Replay::digest( $signed['timestamp'], Woodoo_Signer::PLUGIN_STOCK, $body ), $signed['timestamp'], $now );
		if ( Woodoo_Replay::REPLAYED === $memory ) {
			return Woodoo_Answer::error( 409, 'replayed', 'replayed request: this signed request was already accepted; sign each request anew' );
		}
		if ( Woodoo_Replay::FIRST !== $memory ) {
			return Woodoo_Answer::error( 503, 'replay_unavailable', 'the replay memory (table woodoo_replay) cannot be written; deactivate and activate the plugin to create it' );
		}
		$results = array();
		foreach ( $items as $item ) {
			$results[] = self::apply( $item['id'], $item['expected'], $item['quantity'] );
		}
		return array( 200, array( 'results' => $results ) );
	}

	/**
	 * The items of a body, or array( 'error' => ..., 'field' => ... ).
	 *
	 * Decoded to objects, not arrays, so a JSON object {"0": ...} is not taken for a list. Every
	 * number is an integer within bounds (JSON floats, strings, booleans and null are refused, not
	 * converted), and messages name the item and field but never echo the input.
	 *
	 * @param string $body Raw body.
	 * @return array
	 */
	public static function validate( $body ) {
		$data = json_decode( $body, false, self::MAX_DEPTH );
		if ( ! $data instanceof stdClass ) {
			return Woodoo_Answer::invalid( '(body)', 'expected a JSON object {"items": [...]}, at most ' . self::MAX_DEPTH . ' levels deep' );
		}
		return self::items( $data, self::MAX_ITEMS, false );
	}

	/**
	 * The write items of a decoded body, or an error naming the first bad item and field.
	 *
	 * Shared by this route and the bulk write route. Each item holds the JSON integers id,
	 * expected and quantity within bounds; with $exact, nothing else, and no id twice.
	 *
	 * @param stdClass $data  Decoded body.
	 * @param int      $max   Most items accepted.
	 * @param bool     $exact Refuse other keys in an item and an id sent twice.
	 * @return array
	 */
	public static function items( $data, $max, $exact ) {
		if ( ! property_exists( $data, 'items' ) || ! is_array( $data->items ) ) {
			return Woodoo_Answer::invalid( 'items', 'items must be a list' );
		}
		if ( count( $data->items ) > $max ) {
			return Woodoo_Answer::invalid( 'items', 'at most ' . $max . ' items per request, got ' . count( $data->items ) );
		}
		$bounds = array(
			'id'       => array( 1, self::MAX_ID, 'id must be a positive integer of at most ' . self::MAX_ID ),
			'expected' => array( 0, self::MAX_QUANTITY, 'expected must be an integer from 0 to ' . self::MAX_QUANTITY ),
			'quantity' => array( 0, self::MAX_QUANTITY, 'quantity must be an integer from 0 to ' . self::MAX_QUANTITY ),
		);
		$shape = '{"id", "expected", "quantity"}' . ( $exact ? ' and nothing else' : '' );
		$items = array();
		$seen  = array();
		foreach ( $data->items as $index => $item ) {
			if ( ! $item instanceof stdClass || ( $exact && array_diff( array_keys( get_object_vars( $item ) ), array_keys( $bounds ) ) ) ) {
				return Woodoo_Answer::invalid( "items.{$index}", "items.{$index} must be an object {$shape}" );
			}
			$clean = array();
			foreach ( $bounds as $key => $bound ) {
				$value = property_exists( $item, $key ) ? $item->$key : null;
				if ( ! is_int( $value ) || $value < $bound[0] || $value > $bound[1] ) {
					return Woodoo_Answer::invalid( "items.{$index}.{$key}", "items.{$index}: " . $bound[2] );
				}
				$clean[ $key ] = $value;
			}
			if ( $exact && isset( $seen[ $clean['id'] ] ) ) {
				return Woodoo_Answer::invalid( "items.{$index}.id", "items.{$index}: the same id as items." . $seen[ $clean['id'] ] . '; send each product once' );
			}
			$seen[ $clean['id'] ] = $index;
			$items[]              = $clean;
		}
		return $items;
	}

	/**
	 * Compare-and-set of one product's stock.
	 *
	 * @param int $id       Product or variation id.
	 * @param int $expected Stock the daemon believes the shop shows.
	 * @param int $quantity New stock.
	 * @return array Result.
	 */
	public static function apply( $id, $expected, $quantity ) {
		global $wpdb;
		$product = wc_get_product( $id );
		if ( ! $product || ! $product->managing_stock() || (int) $product->get_stock_managed_by_id() !== (int) $id ) {
			$message = $product && $product->managing_stock()
				? sprintf( 'product %d takes its stock from product %d', $id, $product->get_stock_managed_by_id() )
				: sprintf( 'no product %d managing stock', $id );
			return self::item_error( $id, 'not_found', $message );
		}
		// WooCommerce stores "24" through $product->save() and "24.000000" through
		// wc_update_product_stock() (its SQL uses %f), so the expected value is matched in both forms.
		$rows = $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$wpdb->postmeta} SET meta_value = %s WHERE post_id = %d AND meta_key = '_stock' AND meta_value IN (%s, %s)",
				(string) $quantity,
				$id,
				(string) $expected,
				sprintf( '%.6F', $expected )
			)
		);
		if ( false === $rows ) {
			return self::item_error( $id, 'db_error', (string) $wpdb->last_error );
		}
		if ( 0 === (int) $rows ) {
			$current = $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->postmeta} WHERE post_id = %d AND meta_key = '_stock' LIMIT 1", $id ) );
			if ( null === $current || '' === trim( (string) $current ) || ! is_numeric( $current ) ) {
				return self::conflict( $id, null ); // No figure: not the one the daemon expected.
			}
			$current = self::number( $current );
			// MySQL counts changed rows: writing the figure already there changes none.
			if ( ! ( $expected === $quantity && $current === $expected ) ) {
				return self::conflict( $id, $current );
			}
		}
		return self::applied( $id, $quantity, self::after_write( $id ) );
	}

	/**
	 * Lets WooCommerce catch up after the direct write: caches, stock status, lookup table.
	 *
	 * @param int $id Product id.
	 * @return string The product's stock status.
	 */
	public static function after_write( $id ) {
		global $wpdb;
		wp_cache_delete( $id, 'post_meta' );
		clean_post_cache( $id );
		$product = wc_get_product( $id );
		if ( ! $product ) {
			return '';
		}
		// A fresh object has no pending changes: save() derives the stock status from the new
		// figure (validate_props) and writes only what changed, never _stock itself.
		$product->save();
		$status = (string) $product->get_stock_status();
		$wpdb->query(
			$wpdb->prepare(
				"UPDATE {$wpdb->prefix}wc_product_meta_lookup SET stock_quantity = %f, stock_status = %s WHERE product_id = %d",
				(float) $product->get_stock_quantity(),
				$status,
				$id
			)
		);
		do_action( $product->is_type( 'variation' ) ? 'woocommerce_variation_set_stock' : 'woocommerce_product_set_stock', $product );
		wc_delete_product_transients( $id );
		$parent = (int) $product->get_parent_id();
		if ( $parent > 0 ) {
			wc_delete_product_transients( $parent );
		}
		return $status;
	}

	/**
	 * A stored figure as int (or float when fractional or beyond what an int holds exactly).
	 *
	 * @param string $value meta_value.
	 * @return int|float
	 */
	public static function number( $value ) {
		$float = (float) $value;
		return floor( $float ) === $float && abs( $float ) < 9.0e15 ? (int) $float : $float;
	}

	/**
	 * A refused item's result: the shop no longer shows what the daemon expected (null: no
	 * figure at all); the bulk write route answers with the same.
	 *
	 * @param int           $id      Id.
	 * @param int|float|null $current Figure the shop shows now.
	 * @return array
	 */
	public static function conflict( $id, $current ) {
		return array(
			'id'      => $id,
			'status'  => 'conflict',
			'current' => $current,
		);
	}

	/**
	 * An applied item's result; the bulk write route answers with the same.
	 *
	 * @param int    $id       Id.
	 * @param int    $quantity Figure now.
	 * @param string $status   Stock status now.
	 * @return array
	 */
	public static function applied( $id, $quantity, $status ) {
		return array(
			'id'           => $id,
			'status'       => 'applied',
			'quantity'     => $quantity,
			'stock_status' => $status,
		);
	}

	/**
	 * Per-item error; the bulk write route answers with the same.
	 *
	 * @param int    $id      Id.
	 * @param string $code    Code.
	 * @param string $message Message.
	 * @return array
	 */
	public static function item_error( $id, $code, $message ) {
		return array(
			'id'      => $id,
			'status'  => 'error',
			'code'    => $code,
			'message' => $message,
		);
	}
}
