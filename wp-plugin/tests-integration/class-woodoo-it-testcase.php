<?php
/**
 * Base of the integration tests: the catalog emptied before each test (Woodoo_IT_Catalog, which
 * also seeds it), signed calls through WordPress's real REST server, and the actions fired during
 * a call.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

use PHPUnit\Framework\TestCase;

/**
 * Base test case.
 */
abstract class Woodoo_IT_TestCase extends TestCase {

	/**
	 * Names of the actions and filters run during the last call(), in order.
	 *
	 * @var string[]
	 */
	protected $hooks = array();

	/**
	 * Empties the catalog and WordPress's object cache.
	 */
	protected function setUp(): void {
		parent::setUp();
		Woodoo_IT_Catalog::wipe();
		Woodoo_IT_WooCommerce::reset();
	}

	/**
	 * Transients as options rows, as set_transient() leaves them (with an expiry a day away).
	 *
	 * @param string[] $options Option names (_transient_* and _transient_timeout_*).
	 * @param array    $values  Values by option name (others: "cached").
	 */
	public static function seed_transients( array $options, array $values = array() ) {
		global $wpdb;
		$rows = array();
		foreach ( $options as $name ) {
			$value  = isset( $values[ $name ] ) ? $values[ $name ] : ( 0 === strpos( $name, '_transient_timeout_' ) ? (string) ( time() + DAY_IN_SECONDS ) : 'cached' );
			$rows[] = $wpdb->prepare( "(%s, %s, 'no')", $name, $value );
		}
		if ( $rows ) {
			$wpdb->query( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES " . implode( ',', $rows ) );
		}
		wp_cache_flush();
	}

	/**
	 * The names of the transient options stored now.
	 *
	 * @return string[]
	 */
	public static function stored_transients() {
		global $wpdb;
		$names = $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_%' ORDER BY option_name" );
		sort( $names );
		return $names;
	}

	/**
	 * A signed POST through WordPress's REST server: array( status, data ), the hooks recorded.
	 *
	 * @param string   $path      REST route, e.g. "/woodoo/v1/stock/bulk".
	 * @param string   $signed    Logical route signed, e.g. Woodoo_Bulk_Route::SIGNED_WRITE.
	 * @param string   $body      Raw body.
	 * @param int|null $timestamp Signature time (now by default).
	 * @param string   $secret    Secret.
	 * @return array
	 */
	protected function call( $path, $signed, $body, $timestamp = null, $secret = WOODOO_STOCK_SECRET ) {
		return $this->call_with_header( $path, $body, Woodoo_Signer::sign( $body, $secret, $signed, null === $timestamp ? time() : $timestamp ) );
	}

	/**
	 * A POST with this signature header (null: none).
	 *
	 * @param string      $path   REST route.
	 * @param string      $body   Raw body.
	 * @param string|null $header X-Woodoo-Signature.
	 * @return array
	 */
	protected function call_with_header( $path, $body, $header ) {
		$request = new WP_REST_Request( 'POST', $path );
		$request->set_header( 'Content-Type', 'application/json' );
		if ( null !== $header ) {
			$request->set_header( 'X-Woodoo-Signature', $header );
		}
		$request->set_body( $body );
		$this->hooks = array();
		$recorder    = function () {
			$this->hooks[] = current_filter();
		};
		add_action( 'all', $recorder );
		try {
			$response = rest_do_request( $request );
		} finally {
			remove_action( 'all', $recorder );
		}
		// Dispatched here, no HTTP: WordPress's REST server does the rest when serving.
		$data = rest_get_server()->response_to_data( $response, false );
		$this->assertSame( 'no-store', $response->get_headers()['Cache-Control'] ?? null, 'every answer is marked no-store' );
		return array( $response->get_status(), $data );
	}

	/**
	 * A bulk write of these items, signed: array( status, data ).
	 *
	 * @param array $items Items (id, expected, quantity).
	 * @return array
	 */
	protected function write( array $items ) {
		return $this->call( '/woodoo/v1/stock/bulk', Woodoo_Bulk_Route::SIGNED_WRITE, self::write_body( $items ) );
	}

	/**
	 * A bulk write body with a fresh request id.
	 *
	 * @param array $items Items.
	 * @return string
	 */
	protected static function write_body( array $items ) {
		return wp_json_encode(
			array(
				'items'      => $items,
				'request_id' => bin2hex( random_bytes( 16 ) ),
			)
		);
	}

	/**
	 * A product's post meta as stored (first row of each key), uncached.
	 *
	 * @param int $id Post id.
	 * @return array
	 */
	public static function meta( $id ) {
		global $wpdb;
		$meta = array();
		foreach ( $wpdb->get_results( $wpdb->prepare( "SELECT meta_key, meta_value FROM {$wpdb->postmeta} WHERE post_id = %d ORDER BY meta_id", $id ) ) as $row ) {
			if ( ! isset( $meta[ $row->meta_key ] ) ) {
				$meta[ $row->meta_key ] = $row->meta_value;
			}
		}
		ksort( $meta );
		return $meta;
	}

	/**
	 * A product's lookup row (the recorded columns), uncached; null when none.
	 *
	 * @param int $id Product id.
	 * @return array|null
	 */
	public static function lookup( $id ) {
		global $wpdb;
		return $wpdb->get_row( $wpdb->prepare( "SELECT product_id, sku, stock_quantity, stock_status, onsale, total_sales FROM {$wpdb->prefix}wc_product_meta_lookup WHERE product_id = %d", $id ), ARRAY_A );
	}

	/**
	 * A product's terms as array( taxonomy, slug ) pairs, sorted, uncached.
	 *
	 * @param int $id Post id.
	 * @return array
	 */
	public static function terms( $id ) {
		global $wpdb;
		$terms = array();
		foreach ( $wpdb->get_results( $wpdb->prepare( "SELECT tt.taxonomy, t.slug FROM {$wpdb->term_relationships} tr JOIN {$wpdb->term_taxonomy} tt ON tt.term_taxonomy_id = tr.term_taxonomy_id JOIN {$wpdb->terms} t ON t.term_id = tt.term_id WHERE tr.object_id = %d", $id ) ) as $row ) {
			$terms[] = array( $row->taxonomy, $row->slug );
		}
		sort( $terms );
		return $terms;
	}

	/**
	 * A post's row (the recorded columns and post_modified), uncached.
	 *
	 * @param int $id Post id.
	 * @return array
	 */
	public static function post( $id ) {
		global $wpdb;
		return $wpdb->get_row( $wpdb->prepare( "SELECT post_modified, post_modified_gmt, post_status, post_type, post_parent FROM {$wpdb->posts} WHERE ID = %d", $id ), ARRAY_A );
	}

	/**
	 * The stored count of a term, and the count WordPress's own counting makes of the rows.
	 *
	 * @param string $taxonomy Taxonomy.
	 * @param string $slug     Slug.
	 * @return int[] array( stored, counted ).
	 */
	public static function term_count( $taxonomy, $slug ) {
		global $wpdb;
		$tt      = Woodoo_IT_Catalog::term_taxonomy_ids()[ $taxonomy . '/' . $slug ];
		$stored  = (int) $wpdb->get_var( $wpdb->prepare( "SELECT count FROM {$wpdb->term_taxonomy} WHERE term_taxonomy_id = %d", $tt ) );
		$counted = (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->term_relationships} tr JOIN {$wpdb->posts} p ON p.ID = tr.object_id WHERE tr.term_taxonomy_id = %d AND p.post_status = 'publish' AND p.post_type IN ('product', 'product_variation')", $tt ) );
		return array( $stored, $counted );
	}
}
