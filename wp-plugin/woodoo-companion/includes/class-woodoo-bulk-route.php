<?php
/**
 * The daemon's bulk routes (docs/order-events.md §5, §6): the stock catalog read straight from
 * WooCommerce's tables in pages of thousands, and compare-and-set stock writes of up to 1,000
 * items per request, applied set-based.
 *
 *   POST /wp-json/woodoo/v1/catalog     signed for "POST /woodoo/v1/catalog"
 *   POST /wp-json/woodoo/v1/stock/bulk  signed for "POST /woodoo/v1/stock/bulk"
 *
 * Same discipline as the stock route: the Woodoo signature over the raw body with the stock
 * secret, each signed request accepted once (Woodoo_Replay), every number bounded, the same
 * refusals in the same shape (Woodoo_Answer), nothing written on a refusal.
 *
 * What the bulk write relies on. WooCommerce 11.0.1's own stock update (a REST PUT or batch: the
 * product's save()) was recorded row by row and hook by hook on WordPress 7.0.4 and MariaDB 10.11
 * (tests/fixtures/woocommerce11/stock_write_effects.json); wp-plugin/tests-integration checks this
 * class against that recording on a real WordPress and a real MariaDB. From that recording and
 * from WooCommerce's code:
 * - A product's stock is the post meta `_stock` (written as an integer string, "0", "12"), its
 *   stock status `_stock_status`; both are mirrored in {prefix}wc_product_meta_lookup
 *   (stock_quantity, stock_status). The lookup row is updated, never created: a product without
 *   one waits for WooCommerce's "Regenerate the product lookup tables" as it does anyway.
 * - With managed stock the status follows the figure (WC_Product::validate_props()): "instock"
 *   above the option woocommerce_notify_no_stock_amount (0 by default), else "onbackorder" when
 *   backorders are allowed (`_backorders` other than "no"), else "outofstock".
 * - The product_visibility term "outofstock" is attached exactly when the status is "outofstock",
 *   to products and to variations, whatever woocommerce_hide_out_of_stock_items says (that option
 *   only filters queries, and which variations count as visible in the parent's sync); its count
 *   is then recounted (wp_update_term_count_now()).
 * - post_modified and post_modified_gmt are set to now on the product, and on a variation's
 *   parent (WooCommerce saves the parent when it syncs it).
 * - The transients wc_delete_product_transients() deletes (wc_products_onsale,
 *   wc_featured_products, wc_outofstock_count, wc_low_stock_count, and per product and per
 *   variation's parent wc_product_children_, wc_var_prices_, wc_related_, wc_child_has_weight_,
 *   wc_child_has_dimensions_), the "product" transient version bumped, and the "product_query"
 *   one (WooCommerce bumps it whenever a product's terms are set, which every save does).
 * - A variation's parent is then synced by WooCommerce itself (wc_deferred_product_sync(): at
 *   the end of the request, the parent's price, stock status and children), as after its own
 *   variation saves.
 * - Actions, fired after the SQL (so every "before" action here fires once the row has changed,
 *   with the product object already holding the new figure, as WooCommerce's own does) for each
 *   item that changed, in WooCommerce's order: woocommerce_before_product_object_save,
 *   woocommerce_{product|variation}_before_set_stock, updated_post_meta (_stock, then
 *   _stock_status when it changed), the term relationship actions and set_object_terms when the
 *   outofstock term changed (always set_object_terms for a variation, whose visibility WooCommerce
 *   always rewrites), woocommerce_product_set_visibility (products), woocommerce_{product|
 *   variation}_set_stock, woocommerce_{product|variation}_set_stock_status when the status
 *   changed, woocommerce_product_object_updated_props, then the transients with their
 *   delete_transient_* actions and woocommerce_delete_product_transients (after the save actions
 *   for a variation, for it and its parent), woocommerce_update_product or
 *   woocommerce_update_product_variation, woocommerce_after_product_object_save. Not fired:
 *   woocommerce_product_read (objects are read, not saved) and the REST API's own actions.
 * - An item whose figure does not change (expected = quantity = the shop's figure) is applied
 *   without any write or action, like a save that changes nothing.
 * - A product managing stock whose figure is empty (no `_stock` row, or not a number) is answered
 *   as a conflict with `current` null: the daemon expected a figure, the shop shows none.
 * - The compare-and-set holds: in one transaction the `_stock` rows are read with SELECT ... FOR
 *   UPDATE (InnoDB row locks: WooCommerce's own stock reductions, an UPDATE of the same row, wait
 *   for the commit, or the read waits for theirs) and the UPDATE keeps the read value in its WHERE
 *   clause, so even on a table without row locks (MyISAM) a figure that changed in between is not
 *   overwritten: such an item is answered as a conflict.
 * Only simple products and variations managing their own stock are written here (their save is
 * the one recorded); any other type (variable with stock at the parent, grouped, external, types
 * from other plugins) is answered error "unsupported_type": the stock route writes those one by
 * one through WooCommerce's own save.
 *
 * Time: the SQL runs per chunk of CHUNK items (a few statements each: a select, the locked
 * select, up to five writes); chunks after the time budget (20 s, less when PHP's
 * max_execution_time is short) are not started and their items answered error "not_attempted"
 * with nothing written, for the daemon to send again. Actions for a chunk fire right after its
 * commit, before the next chunk starts.
 * What WooCommerce hangs on those actions costs more than the writes: while they fire,
 * Woodoo_Bulk_Quiet answers the lookups of rows its handlers delete again and again once they
 * are gone, and skips their cache version bumps to a value already sent (same rows, same actions).
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/class-woodoo-bulk-quiet.php';

/**
 * The catalog and bulk stock routes.
 */
final class Woodoo_Bulk_Route {

	// The logical routes signed (X-Woodoo-Signature), shared with woodoo/web/signing.py.
	const SIGNED_CATALOG = 'POST /woodoo/v1/catalog';
	const SIGNED_WRITE   = 'POST /woodoo/v1/stock/bulk';

	const CATALOG_ROUTE     = '/catalog';
	const WRITE_ROUTE       = '/stock/bulk';
	const CATALOG_MAX_BODY  = 1024;
	const CATALOG_MAX_DEPTH = 2;       // {"after_id": 5} is 2 deep to json_decode (values count).
	const NAME_CHARS        = 200;     // Of each name: a page of 5,000 stays a few MB, whatever the titles.
	const DEFAULT_LIMIT     = 2000;
	const MAX_LIMIT         = 5000;
	const WRITE_MAX_BODY    = 131072;  // 1,000 items at their longest, with spaces, fit in 80 KB.
	const WRITE_MAX_ITEMS   = 1000;
	const WRITE_MAX_DEPTH   = 4;       // {"items": [{"id": 1}]}.
	const CHUNK             = 250;
	const BUDGET            = 20;      // Seconds after which no new chunk starts.
	const LOCK_WAIT         = 5;       // Seconds a chunk waits for a row another request holds.
	const VISIBILITY        = 'product_visibility';
	const OUT_OF_STOCK      = 'outofstock';

	// WooCommerce's wc_delete_product_transients(): shop-wide names, then per-product prefixes.
	const SHOP_TRANSIENTS    = array( 'wc_products_onsale', 'wc_featured_products', 'wc_outofstock_count', 'wc_low_stock_count' );
	const PRODUCT_TRANSIENTS = array( 'wc_product_children_', 'wc_var_prices_', 'wc_related_', 'wc_child_has_weight_', 'wc_child_has_dimensions_' );

	/**
	 * Transient names known to exist in the options table (null: unknown, ask delete_transient()).
	 *
	 * @var array|null
	 */
	private static $stored_transients = null;

	/**
	 * Adds the hooks.
	 */
	public static function register() {
		add_action( 'rest_api_init', array( __CLASS__, 'register_routes' ) );
	}

	/**
	 * Registers both routes. Authorisation is the signature, checked over the raw body.
	 */
	public static function register_routes() {
		Woodoo_Answer::register( self::CATALOG_ROUTE, array( __CLASS__, 'rest_catalog' ) );
		Woodoo_Answer::register( self::WRITE_ROUTE, array( __CLASS__, 'rest_write' ) );
	}

	/**
	 * REST callback of the catalog.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response
	 */
	public static function rest_catalog( $request ) {
		return Woodoo_Answer::respond( $request, array( __CLASS__, 'handle_catalog' ) );
	}

	/**
	 * REST callback of the bulk write.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response
	 */
	public static function rest_write( $request ) {
		return Woodoo_Answer::respond( $request, array( __CLASS__, 'handle_write' ) );
	}

	/**
	 * The catalog request: array( HTTP status, response data ).
	 *
	 * @param string      $body   Raw body.
	 * @param string|null $header X-Woodoo-Signature.
	 * @param int|null    $now    Clock.
	 * @return array
	 */
	public static function handle_catalog( $body, $header, $now = null ) {
		$signed = self::admit( $body, $header, self::SIGNED_CATALOG, self::CATALOG_MAX_BODY, $now );
		if ( isset( $signed['refusal'] ) ) {
			return $signed['refusal'];
		}
		$query = self::validate_catalog( $body );
		if ( isset( $query['error'] ) ) {
			return Woodoo_Answer::error( 400, 'schema', $query['error'], $query['field'] );
		}
		$refusal = self::remember( $signed['timestamp'], self::SIGNED_CATALOG, $body, $signed['now'] );
		if ( null !== $refusal ) {
			return $refusal;
		}
		$items = self::catalog( $query['after_id'], $query['limit'] );
		if ( null === $items ) {
			return Woodoo_Answer::error( 503, 'db_error', 'the catalog could not be read from the database' );
		}
		$last = $items ? $items[ count( $items ) - 1 ]['id'] : null;
		return array(
			200,
			array(
				'request_id'    => $query['request_id'],
				'items'         => $items,
				'next_after_id' => count( $items ) === $query['limit'] ? $last : null,
			),
		);
	}

	/**
	 * The bulk write request: array( HTTP status, response data ).
	 *
	 * @param string        $body   Raw body.
	 * @param string|null   $header X-Woodoo-Signature.
	 * @param int|null      $now    Clock (unix seconds).
	 * @param callable|null $clock  Seconds as a float, for the time budget (tests); microtime by default.
	 * @return array
	 */
	public static function handle_write( $body, $header, $now = null, $clock = null ) {
		$signed = self::admit( $body, $header, self::SIGNED_WRITE, self::WRITE_MAX_BODY, $now );
		if ( isset( $signed['refusal'] ) ) {
			return $signed['refusal'];
		}
		$request = self::validate_write( $body );
		if ( isset( $request['error'] ) ) {
			return Woodoo_Answer::error( 400, 'schema', $request['error'], $request['field'] );
		}
		$refusal = self::remember( $signed['timestamp'], self::SIGNED_WRITE, $body, $signed['now'] );
		if ( null !== $refusal ) {
			return $refusal;
		}
		return array(
			200,
			array(
				'request_id' => $request['request_id'],
				'results'    => self::write( $request['items'], $clock ),
			),
		);
	}

	/**
	 * The checks before the body is read: configuration, size, signature.
	 *
	 * @param string   $body     Raw body.
	 * @param mixed    $header   X-Woodoo-Signature.
	 * @param string   $route    Logical route signed.
	 * @param int      $max_body Largest body accepted, in bytes.
	 * @param int|null $now      Clock.
	 * @return array array( 'refusal' => answer ) or array( 'timestamp' => int, 'now' => int ).
	 */
	private static function admit( $body, $header, $route, $max_body, $now ) {
		$now     = null === $now ? time() : (int) $now;
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK );
		if ( null !== $problem ) {
			return array( 'refusal' => Woodoo_Answer::error( 503, 'not_configured', $problem . '; the bulk routes refuse every call until it is set' ) );
		}
		$body = is_string( $body ) ? $body : '';
		if ( strlen( $body ) > $max_body ) {
			return array( 'refusal' => Woodoo_Answer::error( 400, 'too_large', 'body larger than ' . $max_body . ' bytes' ) );
		}
		$signed = Woodoo_Signer::inspect( $body, $header, array( Woodoo_Settings::stock_secret() ), $route, $now );
		if ( isset( $signed['code'] ) ) {
			return array( 'refusal' => Woodoo_Answer::error( 401, $signed['code'], $signed['message'] ) );
		}
		return array(
			'timestamp' => $signed['timestamp'],
			'now'       => $now,
		);
	}

	/**
	 * Remembers a valid signed request just before acting on it: null, or the refusal.
	 *
	 * @param int    $timestamp Signed timestamp.
	 * @param string $route     Logical route.
	 * @param string $body      Raw body.
	 * @param int    $now       Clock.
	 * @return array|null
	 */
	private static function remember( $timestamp, $route, $body, $now ) {
		$memory = Woodoo_Replay::claim( Woodoo_Replay::digest( $timestamp, $route, $body ), $timestamp, $now );
		if ( Woodoo_Replay::REPLAYED === $memory ) {
			return Woodoo_Answer::error( 409, 'replayed', 'replayed request: this signed request was already accepted; sign each request anew' );
		}
		if ( Woodoo_Replay::FIRST !== $memory ) {
			return Woodoo_Answer::error( 503, 'replay_unavailable', 'the replay memory (table woodoo_replay) cannot be written; deactivate and activate the plugin to create it' );
		}
		return null;
	}

	/**
	 * The catalog query of a body, or array( 'error' => ..., 'field' => ... ).
	 *
	 * {"after_id": 0.., "limit": 1..MAX_LIMIT, "request_id": "<32 lowercase hex>"}: request_id is
	 * required, the others optional; JSON integers only (floats, strings, booleans and null are
	 * refused, not converted); any other key is refused; messages never echo the input.
	 *
	 * @param string $body Raw body.
	 * @return array
	 */
	public static function validate_catalog( $body ) {
		$data = json_decode( $body, false, self::CATALOG_MAX_DEPTH );
		if ( ! $data instanceof stdClass ) {
			return Woodoo_Answer::invalid( '(body)', 'expected a JSON object {"after_id": 0.., "limit": 1..' . self::MAX_LIMIT . ', "request_id": "<32 hex>"}, at most ' . self::CATALOG_MAX_DEPTH . ' levels deep' );
		}
		if ( array_diff( array_keys( get_object_vars( $data ) ), array( 'after_id', 'limit', 'request_id' ) ) ) {
			return Woodoo_Answer::invalid( '(body)', 'only the keys after_id, limit and request_id are accepted' );
		}
		$request_id = self::request_id( $data );
		if ( null === $request_id ) {
			return Woodoo_Answer::invalid( 'request_id', 'request_id must be 32 lowercase hex digits' );
		}
		$after = property_exists( $data, 'after_id' ) ? $data->after_id : 0;
		if ( ! is_int( $after ) || $after < 0 || $after > Woodoo_Stock_Route::MAX_ID ) {
			return Woodoo_Answer::invalid( 'after_id', 'after_id must be an integer from 0 to ' . Woodoo_Stock_Route::MAX_ID );
		}
		$limit = property_exists( $data, 'limit' ) ? $data->limit : self::DEFAULT_LIMIT;
		if ( ! is_int( $limit ) || $limit < 1 || $limit > self::MAX_LIMIT ) {
			return Woodoo_Answer::invalid( 'limit', 'limit must be an integer from 1 to ' . self::MAX_LIMIT );
		}
		return array(
			'after_id'   => $after,
			'limit'      => $limit,
			'request_id' => $request_id,
		);
	}

	/**
	 * The write request of a body, or array( 'error' => ..., 'field' => ... ).
	 *
	 * {"items": [{"id", "expected", "quantity"}, ...], "request_id": "<32 lowercase hex>"}: both
	 * keys required and no other; at most WRITE_MAX_ITEMS items, each with exactly these three JSON
	 * integers within the stock route's bounds, no id twice.
	 *
	 * @param string $body Raw body.
	 * @return array
	 */
	public static function validate_write( $body ) {
		$data = json_decode( $body, false, self::WRITE_MAX_DEPTH );
		if ( ! $data instanceof stdClass ) {
			return Woodoo_Answer::invalid( '(body)', 'expected a JSON object {"items": [...], "request_id": "<32 hex>"}, at most ' . self::WRITE_MAX_DEPTH . ' levels deep' );
		}
		if ( array_diff( array_keys( get_object_vars( $data ) ), array( 'items', 'request_id' ) ) ) {
			return Woodoo_Answer::invalid( '(body)', 'only the keys items and request_id are accepted' );
		}
		$request_id = self::request_id( $data );
		if ( null === $request_id ) {
			return Woodoo_Answer::invalid( 'request_id', 'request_id must be 32 lowercase hex digits' );
		}
		$items = Woodoo_Stock_Route::items( $data, self::WRITE_MAX_ITEMS, true );
		if ( isset( $items['error'] ) ) {
			return $items;
		}
		return array(
			'items'      => $items,
			'request_id' => $request_id,
		);
	}

	/**
	 * The body's request_id when it is 32 lowercase hex digits, else null.
	 *
	 * @param stdClass $data Decoded body.
	 * @return string|null
	 */
	private static function request_id( $data ) {
		if ( property_exists( $data, 'request_id' ) && is_string( $data->request_id ) && preg_match( '/\A[0-9a-f]{32}\z/', $data->request_id ) ) {
			return $data->request_id;
		}
		return null;
	}

	/**
	 * One page of the catalog: products and variations with an id above $after_id, by id.
	 *
	 * Three statements whatever the page size: the posts, their stock meta, their product type.
	 * Figures come from the post meta (what WooCommerce's product objects and REST API read, and
	 * what the bulk write compares with); the lookup table is derived from it. Trashed products
	 * and auto-drafts are left out; a meta key stored twice counts by its first row, as
	 * get_post_meta() reads it.
	 *
	 * @param int $after_id Cursor: the last id of the previous page (0 for the first).
	 * @param int $limit    Page size.
	 * @return array|null Items, or null on a database error.
	 */
	public static function catalog( $after_id, $limit ) {
		global $wpdb;
		$posts = $wpdb->get_results(
			$wpdb->prepare(
				"SELECT ID, post_parent, post_type, LEFT(post_title, %d) AS post_title FROM {$wpdb->posts} WHERE ID > %d AND post_type IN ('product', 'product_variation') AND post_status NOT IN ('trash', 'auto-draft') ORDER BY ID LIMIT %d", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				self::NAME_CHARS,
				(int) $after_id,
				(int) $limit
			)
		); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		if ( ! is_array( $posts ) || '' !== (string) $wpdb->last_error ) {
			return null;
		}
		if ( ! $posts ) {
			return array();
		}
		$ids  = array_map( 'intval', wp_list_pluck( $posts, 'ID' ) );
		$meta = self::stock_meta( $ids, array( '_sku', '_manage_stock', '_stock', '_stock_status', '_backorders' ), false );
		if ( null === $meta ) {
			return null;
		}
		$types = self::product_types( $ids );
		if ( null === $types ) {
			return null;
		}
		$items = array();
		foreach ( $posts as $post ) {
			$id      = (int) $post->ID;
			$values  = isset( $meta[ $id ] ) ? $meta[ $id ] : array();
			$value   = static function ( $key ) use ( $values ) {
				return isset( $values[ $key ] ) ? $values[ $key ][1] : null;
			};
			$stock   = $value( '_stock' );
			$items[] = array(
				'id'             => $id,
				'parent_id'      => (int) $post->post_parent,
				'type'           => 'product_variation' === $post->post_type ? 'variation' : ( isset( $types[ $id ] ) ? $types[ $id ] : 'simple' ),
				'sku'            => (string) $value( '_sku' ),
				'manage_stock'   => 'yes' === $value( '_manage_stock' ),
				'stock_quantity' => null === $stock || '' === $stock || ! is_numeric( $stock ) ? null : Woodoo_Stock_Route::number( $stock ),
				'stock_status'   => null === $value( '_stock_status' ) ? null : (string) $value( '_stock_status' ),
				'backorders'     => null === $value( '_backorders' ) ? 'no' : (string) $value( '_backorders' ),
				'name'           => (string) $post->post_title,
			);
		}
		return $items;
	}

	/**
	 * Applies the items, chunk by chunk within the time budget: one result per item, in order.
	 *
	 * @param array         $items Validated items (id, expected, quantity).
	 * @param callable|null $clock Seconds as a float; microtime by default.
	 * @return array
	 */
	public static function write( array $items, $clock = null ) {
		$clock   = is_callable( $clock ) ? $clock : 'microtime';
		$start   = (float) call_user_func( $clock, true );
		$budget  = self::budget();
		$results = array();
		$context = array(
			'tt_id'  => self::out_of_stock_term(),
			'notify' => absint( get_option( 'woocommerce_notify_no_stock_amount', 0 ) ),
		);
		$parents = array();
		$terms   = false;
		$changed = false;
		// A checkout holds a stock row for milliseconds; waiting MariaDB's default 50 s for one
		// held longer (twice: a chunk is tried again) would outlast PHP's time limit.
		$lock_wait = self::lock_wait( self::LOCK_WAIT );
		// The handlers of the actions fired below repeat statements whose answer is known.
		Woodoo_Bulk_Quiet::start();
		try {
			foreach ( array_chunk( $items, self::CHUNK ) as $number => $chunk ) {
				if ( $number > 0 && (float) call_user_func( $clock, true ) - $start >= $budget ) {
					foreach ( $chunk as $item ) {
						$results[] = Woodoo_Stock_Route::item_error( $item['id'], 'not_attempted', 'the request ran out of time before this item; nothing was written for it: send it again' );
					}
					continue;
				}
				$changes = self::apply_chunk( $chunk, $context );
				foreach ( $chunk as $item ) {
					$results[] = $changes['results'][ $item['id'] ];
				}
				if ( $changes['changed'] ) {
					$changed = true;
					$terms   = $terms || $changes['terms'];
					self::announce( $changes['changed'], $context['tt_id'] );
					foreach ( $changes['changed'] as $change ) {
						if ( $change['parent'] > 0 ) {
							$parents[ $change['parent'] ] = true;
						}
					}
				}
			}
			if ( $changed ) {
				self::after_request( array_keys( $parents ), $terms ? $context['tt_id'] : 0 );
			}
		} finally {
			self::lock_wait( $lock_wait );
			Woodoo_Bulk_Quiet::stop();
		}
		self::$stored_transients = null;
		return $results;
	}

	/**
	 * Sets this connection's InnoDB lock wait (seconds); the value it had, or null when unknown
	 * (then nothing is set, and null sets nothing).
	 *
	 * @param int|null $seconds Seconds.
	 * @return int|null
	 */
	private static function lock_wait( $seconds ) {
		global $wpdb;
		if ( null === $seconds ) {
			return null;
		}
		$before = $wpdb->get_var( 'SELECT @@SESSION.innodb_lock_wait_timeout' ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		if ( ! is_numeric( $before ) ) {
			return null;
		}
		$wpdb->query( $wpdb->prepare( 'SET SESSION innodb_lock_wait_timeout = %d', (int) $seconds ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		return (int) $before;
	}

	/**
	 * Seconds after which no new chunk starts: BUDGET, less when max_execution_time is short.
	 *
	 * @param int|null $limit max_execution_time in seconds (0: none); PHP's setting by default.
	 * @return int
	 */
	public static function budget( $limit = null ) {
		$limit = null === $limit ? (int) ini_get( 'max_execution_time' ) : (int) $limit;
		if ( $limit <= 0 ) {
			return self::BUDGET;
		}
		return max( 1, min( self::BUDGET, $limit - 10 ) );
	}

	/**
	 * The compare-and-set of one chunk, in one transaction (tried twice: a deadlock rolls it back).
	 *
	 * @param array $chunk   Items.
	 * @param array $context tt_id (the outofstock term, 0 if none), notify (threshold).
	 * @return array 'results' by id, 'changed' (the items written, in order), 'terms' (whether
	 *               a visibility term changed).
	 */
	private static function apply_chunk( array $chunk, array $context ) {
		global $wpdb;
		for ( $attempt = 1; $attempt <= 2; $attempt++ ) {
			$wpdb->query( 'START TRANSACTION' ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$outcome = self::compare_and_set( $chunk, $context );
			if ( null !== $outcome ) {
				if ( false !== $wpdb->query( 'COMMIT' ) ) { // phpcs:ignore WordPress.DB.DirectDatabaseQuery
					return $outcome;
				}
			}
			$error = (string) $wpdb->last_error;
			$wpdb->query( 'ROLLBACK' ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		}
		$results = array();
		foreach ( $chunk as $item ) {
			$results[ $item['id'] ] = Woodoo_Stock_Route::item_error( $item['id'], 'db_error', 'the database refused the write, nothing was written for this item: ' . substr( $error, 0, 200 ) );
		}
		return array(
			'results' => $results,
			'changed' => array(),
			'terms'   => false,
		);
	}

	/**
	 * The statements of one chunk inside the open transaction; null when one fails.
	 *
	 * @param array $chunk   Items.
	 * @param array $context tt_id, notify.
	 * @return array|null See apply_chunk().
	 */
	private static function compare_and_set( array $chunk, array $context ) {
		global $wpdb;
		$ids   = array_map( 'intval', array_column( $chunk, 'id' ) );
		$in    = implode( ',', $ids );
		$posts = $wpdb->get_results( "SELECT ID, post_type, post_parent FROM {$wpdb->posts} WHERE ID IN ({$in}) AND post_type IN ('product', 'product_variation')", OBJECT_K ); // phpcs:ignore WordPress.DB
		if ( ! is_array( $posts ) || '' !== (string) $wpdb->last_error ) {
			return null;
		}
		$types = self::product_types( $ids );
		// Locks the stock rows until COMMIT (InnoDB): the figures compared are the figures replaced.
		$meta = self::stock_meta( $ids, array( '_manage_stock', '_stock', '_stock_status', '_backorders' ), true );
		if ( null === $types || null === $meta ) {
			return null;
		}
		$results = array();
		$changed = array();
		foreach ( $chunk as $item ) {
			$id     = $item['id'];
			$values = isset( $meta[ $id ] ) ? $meta[ $id ] : array();
			$type   = ! isset( $posts[ $id ] ) ? null : ( 'product_variation' === $posts[ $id ]->post_type ? 'variation' : ( isset( $types[ $id ] ) ? $types[ $id ] : 'simple' ) );
			$stock  = isset( $values['_stock'] ) ? $values['_stock'] : null;
			if ( null === $type ) {
				$results[ $id ] = Woodoo_Stock_Route::item_error( $id, 'not_found', sprintf( 'no product %d managing stock', $id ) );
			} elseif ( 'simple' !== $type && 'variation' !== $type ) {
				$results[ $id ] = Woodoo_Stock_Route::item_error( $id, 'unsupported_type', sprintf( 'product %d is of type %s; write it through POST /woodoo/v1/stock', $id, substr( $type, 0, 40 ) ) );
			} elseif ( ! isset( $values['_manage_stock'] ) || 'yes' !== $values['_manage_stock'][1] ) {
				$results[ $id ] = Woodoo_Stock_Route::item_error( $id, 'not_found', sprintf( 'product %d does not manage its own stock', $id ) );
			} elseif ( null === $stock || '' === trim( (string) $stock[1] ) || ! is_numeric( $stock[1] ) ) {
				// An empty figure is not the one the daemon expected: a conflict showing none, so
				// that it learns so and writes again without comparing.
				$results[ $id ] = Woodoo_Stock_Route::conflict( $id, null );
			} elseif ( Woodoo_Stock_Route::number( $stock[1] ) !== $item['expected'] ) {
				$results[ $id ] = Woodoo_Stock_Route::conflict( $id, Woodoo_Stock_Route::number( $stock[1] ) );
			} else {
				$status_now = isset( $values['_stock_status'] ) ? (string) $values['_stock_status'][1] : '';
				if ( $item['quantity'] === $item['expected'] ) {
					// Nothing changes: WooCommerce's save writes nothing and fires nothing either.
					$results[ $id ] = Woodoo_Stock_Route::applied( $id, $item['quantity'], $status_now );
					continue;
				}
				$backorders = isset( $values['_backorders'] ) ? (string) $values['_backorders'][1] : 'no';
				if ( $item['quantity'] > $context['notify'] ) {
					$status = 'instock';
				} elseif ( 'no' !== $backorders ) {
					$status = 'onbackorder';
				} else {
					$status = 'outofstock';
				}
				$results[ $id ] = Woodoo_Stock_Route::applied( $id, $item['quantity'], $status );
				$changed[ $id ] = array(
					'id'              => $id,
					'type'            => $type,
					'parent'          => 'variation' === $type ? (int) $posts[ $id ]->post_parent : 0,
					'quantity'        => $item['quantity'],
					'old_stock'       => (string) $stock[1],
					'stock_meta_id'   => (int) $stock[0],
					'status'          => $status,
					'status_changed'  => $status !== $status_now,
					'status_meta_id'  => isset( $values['_stock_status'] ) ? (int) $values['_stock_status'][0] : 0,
					'term'            => 0, // +1 attached, -1 detached, 0 untouched.
					'visibility_rewritten' => false,
				);
			}
		}
		if ( ! $changed ) {
			return array(
				'results' => $results,
				'changed' => array(),
				'terms'   => false,
			);
		}
		if ( ! self::write_stock( $changed, $results ) || ! self::write_status( $changed ) ) {
			return null;
		}
		$terms = self::write_terms( $changed, $context['tt_id'] );
		if ( null === $terms || ! self::write_lookup_and_dates( $changed ) ) {
			return null;
		}
		return array(
			'results' => $results,
			'changed' => array_values( $changed ),
			'terms'   => $terms,
		);
	}

	/**
	 * `_stock` of every changed item, one UPDATE guarded by the figure read.
	 *
	 * Under the row locks every guarded row matches. Without them (a MyISAM postmeta) a figure
	 * changed in between is left alone, and its item becomes a conflict with the figure now there.
	 *
	 * @param array $changed Changes by id (items that lost the race are removed).
	 * @param array $results Results by id (theirs become conflicts).
	 * @return bool False on a database error.
	 */
	private static function write_stock( array &$changed, array &$results ) {
		global $wpdb;
		$set   = array();
		$guard = array();
		foreach ( $changed as $id => $change ) {
			$set[]   = $wpdb->prepare( 'WHEN %d THEN %s', $id, (string) $change['quantity'] );
			$guard[] = $wpdb->prepare( '(post_id = %d AND meta_value = %s)', $id, $change['old_stock'] );
		}
		$in   = implode( ',', array_keys( $changed ) );
		$rows = $wpdb->query( "UPDATE {$wpdb->postmeta} SET meta_value = CASE post_id " . implode( ' ', $set ) . " END WHERE meta_key = '_stock' AND post_id IN ({$in}) AND (" . implode( ' OR ', $guard ) . ')' ); // phpcs:ignore WordPress.DB
		if ( false === $rows ) {
			return false;
		}
		if ( (int) $rows === count( $changed ) ) {
			return true;
		}
		// Fewer rows than items: some figure moved without waiting for our lock. Ask again.
		$now = self::stock_meta( array_keys( $changed ), array( '_stock' ), false );
		if ( null === $now ) {
			return false;
		}
		foreach ( $changed as $id => $change ) {
			$figure = isset( $now[ $id ]['_stock'] ) ? (string) $now[ $id ]['_stock'][1] : '';
			if ( (string) $change['quantity'] !== $figure ) {
				$results[ $id ] = Woodoo_Stock_Route::conflict( $id, is_numeric( $figure ) ? Woodoo_Stock_Route::number( $figure ) : null );
				unset( $changed[ $id ] );
			}
		}
		return true;
	}

	/**
	 * `_stock_status` of the items whose status changes: one UPDATE, one INSERT for any missing.
	 *
	 * @param array $changed Changes by id (status_meta_id filled in for inserted rows).
	 * @return bool False on a database error.
	 */
	private static function write_status( array &$changed ) {
		global $wpdb;
		$set     = array();
		$update  = array();
		$missing = array();
		foreach ( $changed as $id => $change ) {
			if ( ! $change['status_changed'] ) {
				continue;
			}
			if ( $change['status_meta_id'] > 0 ) {
				$set[]    = $wpdb->prepare( 'WHEN %d THEN %s', $id, $change['status'] );
				$update[] = $id;
			} else {
				$missing[] = $wpdb->prepare( "(%d, '_stock_status', %s)", $id, $change['status'] );
			}
		}
		if ( $update && false === $wpdb->query( "UPDATE {$wpdb->postmeta} SET meta_value = CASE post_id " . implode( ' ', $set ) . " END WHERE meta_key = '_stock_status' AND post_id IN (" . implode( ',', $update ) . ')' ) ) { // phpcs:ignore WordPress.DB
			return false;
		}
		if ( $missing ) {
			if ( false === $wpdb->query( "INSERT INTO {$wpdb->postmeta} (post_id, meta_key, meta_value) VALUES " . implode( ',', $missing ) ) ) { // phpcs:ignore WordPress.DB
				return false;
			}
			$ids  = array();
			foreach ( $changed as $id => $change ) {
				if ( $change['status_changed'] && 0 === $change['status_meta_id'] ) {
					$ids[] = $id;
				}
			}
			$rows = self::stock_meta( $ids, array( '_stock_status' ), false );
			if ( null === $rows ) {
				return false;
			}
			foreach ( $ids as $id ) {
				$changed[ $id ]['status_meta_id'] = isset( $rows[ $id ]['_stock_status'] ) ? -(int) $rows[ $id ]['_stock_status'][0] : 0; // Negative: added, not updated.
			}
		}
		return true;
	}

	/**
	 * The product_visibility "outofstock" term where the status says so: one INSERT, one DELETE.
	 *
	 * Products get it rewritten when their status changed, variations always (WooCommerce's
	 * variation save rewrites its visibility every time). Rows already right are not touched.
	 *
	 * @param array $changed Changes by id ('term' and 'visibility_rewritten' filled in).
	 * @param int   $tt_id   The term's term_taxonomy_id (0: WooCommerce's term is missing).
	 * @return bool|null Whether a relationship changed; null on a database error.
	 */
	private static function write_terms( array &$changed, $tt_id ) {
		global $wpdb;
		$check = array();
		foreach ( $changed as $id => $change ) {
			if ( $tt_id > 0 && ( $change['status_changed'] || 'variation' === $change['type'] ) ) {
				$check[]                                 = $id;
				$changed[ $id ]['visibility_rewritten'] = true;
			}
		}
		if ( ! $check ) {
			return false;
		}
		$has = $wpdb->get_col( $wpdb->prepare( "SELECT object_id FROM {$wpdb->term_relationships} WHERE term_taxonomy_id = %d AND object_id IN (" . implode( ',', $check ) . ')', $tt_id ) ); // phpcs:ignore WordPress.DB
		if ( '' !== (string) $wpdb->last_error ) {
			return null;
		}
		$has    = array_flip( array_map( 'intval', (array) $has ) );
		$attach = array();
		$detach = array();
		foreach ( $check as $id ) {
			$want = 'outofstock' === $changed[ $id ]['status'];
			if ( $want && ! isset( $has[ $id ] ) ) {
				$attach[]               = $wpdb->prepare( '(%d, %d, 0)', $id, $tt_id );
				$changed[ $id ]['term'] = 1;
			} elseif ( ! $want && isset( $has[ $id ] ) ) {
				$detach[]               = $id;
				$changed[ $id ]['term'] = -1;
			}
		}
		if ( $attach && false === $wpdb->query( "INSERT IGNORE INTO {$wpdb->term_relationships} (object_id, term_taxonomy_id, term_order) VALUES " . implode( ',', $attach ) ) ) { // phpcs:ignore WordPress.DB
			return null;
		}
		if ( $detach && false === $wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->term_relationships} WHERE term_taxonomy_id = %d AND object_id IN (" . implode( ',', $detach ) . ')', $tt_id ) ) ) { // phpcs:ignore WordPress.DB
			return null;
		}
		return $attach || $detach;
	}

	/**
	 * The lookup rows (stock_quantity, stock_status) and post_modified of the items and their
	 * parents: one UPDATE each.
	 *
	 * @param array $changed Changes by id.
	 * @return bool False on a database error.
	 */
	private static function write_lookup_and_dates( array $changed ) {
		global $wpdb;
		if ( ! $changed ) {
			return true;
		}
		$quantity = array();
		$status   = array();
		$posts    = array();
		foreach ( $changed as $id => $change ) {
			$quantity[] = $wpdb->prepare( 'WHEN %d THEN %d', $id, $change['quantity'] );
			$status[]   = $wpdb->prepare( 'WHEN %d THEN %s', $id, $change['status'] );
			$posts[]    = $id;
			if ( $change['parent'] > 0 ) {
				$posts[] = $change['parent'];
			}
		}
		$in     = implode( ',', array_keys( $changed ) );
		$lookup = $wpdb->prefix . 'wc_product_meta_lookup';
		if ( false === $wpdb->query( "UPDATE {$lookup} SET stock_quantity = CASE product_id " . implode( ' ', $quantity ) . ' END, stock_status = CASE product_id ' . implode( ' ', $status ) . " END WHERE product_id IN ({$in})" ) ) { // phpcs:ignore WordPress.DB
			return false;
		}
		$dates = $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->posts} SET post_modified = %s, post_modified_gmt = %s WHERE ID IN (" . implode( ',', array_unique( $posts ) ) . ')', current_time( 'mysql' ), current_time( 'mysql', true ) ) ); // phpcs:ignore WordPress.DB
		return false !== $dates;
	}

	/**
	 * After a chunk's commit: caches, then the actions of each changed item in WooCommerce's order.
	 *
	 * @param array $changed Changes, in item order.
	 * @param int   $tt_id   The outofstock term_taxonomy_id.
	 */
	private static function announce( array $changed, $tt_id ) {
		$ids = array();
		foreach ( $changed as $change ) {
			$ids[] = $change['id'];
			if ( $change['parent'] > 0 ) {
				$ids[] = $change['parent'];
			}
		}
		$ids = array_values( array_unique( $ids ) );
		// Posts in the cache first (one query), so clean_post_cache() finds them without one each.
		_prime_post_caches( $ids, false, false );
		foreach ( $ids as $id ) {
			clean_post_cache( $id );
			if ( class_exists( 'WC_Cache_Helper' ) && method_exists( 'WC_Cache_Helper', 'invalidate_cache_group' ) ) {
				WC_Cache_Helper::invalidate_cache_group( 'product_' . $id );
			}
		}
		// Posts, meta and terms again in three queries, so reading the products costs none.
		_prime_post_caches( $ids, true, true );
		self::find_stored_transients( $ids );
		foreach ( $changed as $change ) {
			$product = wc_get_product( $change['id'] );
			if ( $product ) {
				self::fire( $change, $product, $tt_id );
			}
		}
	}

	/**
	 * The actions of one changed item (see the file's comment for the order and its source).
	 *
	 * @param array      $change  The change.
	 * @param WC_Product $product The product, read after the write.
	 * @param int        $tt_id   The outofstock term_taxonomy_id.
	 */
	private static function fire( array $change, $product, $tt_id ) {
		$id         = $change['id'];
		$variation  = 'variation' === $change['type'];
		$kind       = $variation ? 'woocommerce_variation' : 'woocommerce_product';
		$data_store = method_exists( $product, 'get_data_store' ) ? $product->get_data_store() : null;
		do_action( 'woocommerce_before_product_object_save', $product, $data_store );
		do_action( $kind . '_before_set_stock', $product );
		do_action( 'updated_post_meta', $change['stock_meta_id'], $id, '_stock', (string) $change['quantity'] );
		if ( $change['status_changed'] ) {
			if ( $change['status_meta_id'] < 0 ) {
				do_action( 'added_post_meta', -$change['status_meta_id'], $id, '_stock_status', $change['status'] );
			} else {
				do_action( 'updated_post_meta', $change['status_meta_id'], $id, '_stock_status', $change['status'] );
			}
		}
		if ( 1 === $change['term'] ) {
			do_action( 'add_term_relationship', $id, $tt_id, self::VISIBILITY );
			do_action( 'added_term_relationship', $id, $tt_id, self::VISIBILITY );
		} elseif ( -1 === $change['term'] ) {
			do_action( 'delete_term_relationships', $id, array( $tt_id ), self::VISIBILITY );
			do_action( 'deleted_term_relationships', $id, array( $tt_id ), self::VISIBILITY );
		}
		if ( $change['visibility_rewritten'] ) {
			$terms   = get_the_terms( $id, self::VISIBILITY );
			$terms   = is_array( $terms ) ? $terms : array();
			$tt_ids  = array_map( 'intval', wp_list_pluck( $terms, 'term_taxonomy_id' ) );
			$old_ids = $tt_ids;
			if ( 1 === $change['term'] ) {
				$old_ids = array_values( array_diff( $tt_ids, array( $tt_id ) ) );
			} elseif ( -1 === $change['term'] ) {
				$old_ids[] = $tt_id;
			}
			do_action( 'set_object_terms', $id, wp_list_pluck( $terms, 'slug' ), $tt_ids, self::VISIBILITY, false, $old_ids );
			if ( ! $variation ) {
				do_action( 'woocommerce_product_set_visibility', $id, method_exists( $product, 'get_catalog_visibility' ) ? $product->get_catalog_visibility() : 'visible' );
			}
		}
		do_action( $kind . '_set_stock', $product );
		$props = array( 'stock_quantity' );
		if ( $change['status_changed'] ) {
			do_action( $kind . '_set_stock_status', $id, $change['status'], $product );
			$props[] = 'stock_status';
		}
		do_action( 'woocommerce_product_object_updated_props', $product, $props );
		if ( $variation ) {
			do_action( 'woocommerce_update_product_variation', $id, $product );
			do_action( 'woocommerce_after_product_object_save', $product, $data_store );
			self::delete_transients( array( $id, $change['parent'] ) );
		} else {
			self::delete_transients( array( $id ) );
			do_action( 'woocommerce_update_product', $id, $product );
			do_action( 'woocommerce_after_product_object_save', $product, $data_store );
		}
	}

	/**
	 * Once per request, after the last chunk: the term count, the product query cache version,
	 * and WooCommerce's own sync of every parent whose variations changed.
	 *
	 * @param int[] $parents Parent ids.
	 * @param int   $tt_id   The outofstock term_taxonomy_id when a relationship changed, else 0.
	 */
	private static function after_request( array $parents, $tt_id ) {
		if ( $tt_id > 0 && taxonomy_exists( self::VISIBILITY ) ) {
			wp_update_term_count_now( array( $tt_id ), self::VISIBILITY );
		}
		if ( class_exists( 'WC_Post_Data' ) && method_exists( 'WC_Post_Data', 'delete_product_query_transients' ) ) {
			WC_Post_Data::delete_product_query_transients();
		} elseif ( class_exists( 'WC_Cache_Helper' ) ) {
			WC_Cache_Helper::get_transient_version( 'product_query', true );
		}
		if ( function_exists( 'wc_deferred_product_sync' ) ) {
			foreach ( $parents as $parent ) {
				wc_deferred_product_sync( $parent );
			}
		}
	}

	/**
	 * Which of the transients the products' saves would delete exist in the options table: one
	 * query, so that the rest cost no query each (with a persistent object cache they live there,
	 * and delete_transient() is asked for every one).
	 *
	 * @param int[] $ids Product ids (items and parents).
	 */
	private static function find_stored_transients( array $ids ) {
		global $wpdb;
		if ( wp_using_ext_object_cache() ) {
			self::$stored_transients = null;
			return;
		}
		$names = array();
		foreach ( self::SHOP_TRANSIENTS as $name ) {
			$names[] = '_transient_' . $name;
		}
		foreach ( $ids as $id ) {
			foreach ( self::PRODUCT_TRANSIENTS as $prefix ) {
				$names[] = '_transient_' . $prefix . $id;
			}
		}
		$placeholders = implode( ',', array_fill( 0, count( $names ), '%s' ) );
		$found        = $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM {$wpdb->options} WHERE option_name IN ({$placeholders})", $names ) ); // phpcs:ignore WordPress.DB
		if ( '' !== (string) $wpdb->last_error ) {
			self::$stored_transients = null;
			return;
		}
		self::$stored_transients = array();
		foreach ( (array) $found as $name ) {
			self::$stored_transients[ substr( $name, strlen( '_transient_' ) ) ] = true;
		}
	}

	/**
	 * What wc_delete_product_transients() does for these products, in its order: the shop-wide
	 * transients, each product's, the "product" transient version, then the action per product.
	 *
	 * delete_transient() does the work (options or object cache, and its own actions) for every
	 * transient that exists; for one known to be absent only its delete_transient_{name} action
	 * fires, as delete_transient() itself would before finding nothing.
	 *
	 * @param int[] $ids Product ids.
	 */
	private static function delete_transients( array $ids ) {
		$names = self::SHOP_TRANSIENTS;
		foreach ( $ids as $id ) {
			foreach ( self::PRODUCT_TRANSIENTS as $prefix ) {
				$names[] = $prefix . $id;
			}
		}
		foreach ( $names as $name ) {
			if ( null === self::$stored_transients || isset( self::$stored_transients[ $name ] ) ) {
				delete_transient( $name );
				if ( null !== self::$stored_transients ) {
					unset( self::$stored_transients[ $name ] );
				}
			} else {
				do_action( "delete_transient_{$name}", $name );
			}
		}
		if ( class_exists( 'WC_Cache_Helper' ) ) {
			WC_Cache_Helper::get_transient_version( 'product', true );
		}
		foreach ( $ids as $id ) {
			do_action( 'woocommerce_delete_product_transients', $id );
		}
	}

	/**
	 * The term_taxonomy_id of product_visibility "outofstock" (WooCommerce creates it on install;
	 * made here, as wp_set_post_terms() would, if it went missing), 0 if it cannot be had.
	 *
	 * @return int
	 */
	private static function out_of_stock_term() {
		global $wpdb;
		$tt_id = $wpdb->get_var( $wpdb->prepare( "SELECT tt.term_taxonomy_id FROM {$wpdb->term_taxonomy} tt JOIN {$wpdb->terms} t ON t.term_id = tt.term_id WHERE tt.taxonomy = %s AND t.slug = %s LIMIT 1", self::VISIBILITY, self::OUT_OF_STOCK ) ); // phpcs:ignore WordPress.DB
		if ( $tt_id ) {
			return (int) $tt_id;
		}
		if ( ! taxonomy_exists( self::VISIBILITY ) ) {
			return 0;
		}
		$term = wp_insert_term( self::OUT_OF_STOCK, self::VISIBILITY );
		return is_array( $term ) ? (int) $term['term_taxonomy_id'] : 0;
	}

	/**
	 * The first row of each of $keys for each post: array( post_id => array( key => array(
	 * meta_id, meta_value ) ) ); null on a database error.
	 *
	 * @param int[]    $ids        Post ids.
	 * @param string[] $keys       Meta keys (constants of this class, never input).
	 * @param bool     $for_update Whether to lock the rows until the transaction ends.
	 * @return array|null
	 */
	private static function stock_meta( array $ids, array $keys, $for_update ) {
		global $wpdb;
		if ( ! $ids ) {
			return array();
		}
		$in   = implode( ',', array_map( 'intval', $ids ) );
		$list = "'" . implode( "','", array_map( 'esc_sql', $keys ) ) . "'";
		$rows = $wpdb->get_results( "SELECT meta_id, post_id, meta_key, meta_value FROM {$wpdb->postmeta} WHERE post_id IN ({$in}) AND meta_key IN ({$list}) ORDER BY meta_id" . ( $for_update ? ' FOR UPDATE' : '' ) ); // phpcs:ignore WordPress.DB
		if ( ! is_array( $rows ) || '' !== (string) $wpdb->last_error ) {
			return null;
		}
		$meta = array();
		foreach ( $rows as $row ) {
			$post = (int) $row->post_id;
			if ( ! isset( $meta[ $post ][ $row->meta_key ] ) ) {
				$meta[ $post ][ $row->meta_key ] = array( (int) $row->meta_id, $row->meta_value );
			}
		}
		return $meta;
	}

	/**
	 * The product_type term of each product that has one: array( id => slug ); null on error.
	 *
	 * @param int[] $ids Post ids.
	 * @return array|null
	 */
	private static function product_types( array $ids ) {
		global $wpdb;
		$in   = implode( ',', array_map( 'intval', $ids ) );
		$rows = $wpdb->get_results( "SELECT tr.object_id, t.slug FROM {$wpdb->term_relationships} tr JOIN {$wpdb->term_taxonomy} tt ON tt.term_taxonomy_id = tr.term_taxonomy_id AND tt.taxonomy = 'product_type' JOIN {$wpdb->terms} t ON t.term_id = tt.term_id WHERE tr.object_id IN ({$in}) ORDER BY tr.object_id, tt.term_taxonomy_id" ); // phpcs:ignore WordPress.DB
		if ( ! is_array( $rows ) || '' !== (string) $wpdb->last_error ) {
			return null;
		}
		$types = array();
		foreach ( $rows as $row ) {
			if ( ! isset( $types[ (int) $row->object_id ] ) ) {
				$types[ (int) $row->object_id ] = (string) $row->slug;
			}
		}
		return $types;
	}
}
