<?php
/**
 * The bulk stock write's contract on real WordPress and MariaDB: per-item answers, the refusals,
 * the statements it costs, its time budget, and the compare-and-set against a concurrent
 * checkout holding the row.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

/**
 * POST /woodoo/v1/stock/bulk.
 */
class BulkRouteTest extends Woodoo_IT_TestCase {

	/**
	 * Simple products managing stock: id => figure ("instock" above 0, else "outofstock").
	 *
	 * @param array $figures Figures by id.
	 * @param array $extra   Meta to add to every product.
	 */
	private static function seed_simple( array $figures, array $extra = array() ) {
		$products = array();
		foreach ( $figures as $id => $figure ) {
			$status     = $figure > 0 ? 'instock' : 'outofstock';
			$products[] = array(
				'id'     => $id,
				'type'   => 'simple',
				'meta'   => $extra + array(
					'_sku'          => 'SKU-' . $id,
					'_manage_stock' => 'yes',
					'_stock'        => (string) $figure,
					'_stock_status' => $status,
					'_backorders'   => 'no',
				),
				'terms'  => 'outofstock' === $status ? array( array( 'product_visibility', 'outofstock' ) ) : array(),
				'lookup' => array(
					'sku'            => 'SKU-' . $id,
					'stock_quantity' => $figure,
					'stock_status'   => $status,
				),
			);
		}
		Woodoo_IT_Catalog::seed( $products );
	}

	/**
	 * The stored _stock of a product.
	 *
	 * @param int $id Id.
	 * @return string|null
	 */
	private static function stock( $id ) {
		global $wpdb;
		return $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->postmeta} WHERE post_id = %d AND meta_key = '_stock'", $id ) );
	}

	/**
	 * One answer per item, in order: applied, conflict, every kind of error; only the applied
	 * ones written.
	 */
	public function test_each_item_gets_its_answer_in_order() {
		self::seed_simple( array( 101 => 5, 102 => 7, 103 => 9 ) );
		Woodoo_IT_Catalog::seed(
			array(
				array(
					'id'   => 104,
					'type' => 'simple',
					'meta' => array(
						'_manage_stock' => 'no',
						'_stock_status' => 'instock',
					),
				),
				array(
					'id'   => 105,
					'type' => 'variable',
					'meta' => array(
						'_manage_stock' => 'yes',
						'_stock'        => '3',
						'_stock_status' => 'instock',
					),
				),
				array(
					'id'   => 106,
					'type' => 'simple',
					'meta' => array(
						'_manage_stock' => 'yes',
						'_stock'        => '',
						'_stock_status' => 'instock',
					),
				),
				array(
					'id'   => 107,
					'type' => 'simple',
					'meta' => array(
						'_manage_stock' => 'yes',
						'_stock'        => '4.000000', // As wc_update_product_stock() stores it.
						'_stock_status' => 'instock',
					),
				),
				array(
					'id'   => 108,
					'type' => 'simple',
					'meta' => array(
						'_manage_stock' => 'yes',
						'_stock'        => '-2',
						'_stock_status' => 'onbackorder',
						'_backorders'   => 'notify',
					),
				),
			)
		);
		global $wpdb;
		$wpdb->insert(
			$wpdb->posts,
			array(
				'ID'                    => 109,
				'post_type'             => 'post',
				'post_title'            => 'A post',
				'post_content'          => '',
				'post_excerpt'          => '',
				'to_ping'               => '',
				'pinged'                => '',
				'post_content_filtered' => '',
			)
		);
		list( $status, $data ) = $this->write(
			array(
				array( 'id' => 101, 'expected' => 5, 'quantity' => 0 ),
				array( 'id' => 102, 'expected' => 6, 'quantity' => 1 ),
				array( 'id' => 103, 'expected' => 9, 'quantity' => 9 ),
				array( 'id' => 104, 'expected' => 0, 'quantity' => 1 ),
				array( 'id' => 105, 'expected' => 3, 'quantity' => 1 ),
				array( 'id' => 106, 'expected' => 0, 'quantity' => 1 ),
				array( 'id' => 107, 'expected' => 4, 'quantity' => 2 ),
				array( 'id' => 108, 'expected' => 0, 'quantity' => 1 ),
				array( 'id' => 109, 'expected' => 0, 'quantity' => 1 ),
				array( 'id' => 999999, 'expected' => 0, 'quantity' => 1 ),
			)
		);
		$wpdb->delete( $wpdb->posts, array( 'ID' => 109 ) );
		$this->assertSame( 200, $status );
		$this->assertMatchesRegularExpression( '/\A[0-9a-f]{32}\z/', $data['request_id'] );
		$results = $data['results'];
		$this->assertSame( array( 'id' => 101, 'status' => 'applied', 'quantity' => 0, 'stock_status' => 'outofstock' ), $results[0] );
		$this->assertSame( array( 'id' => 102, 'status' => 'conflict', 'current' => 7 ), $results[1] );
		$this->assertSame( array( 'id' => 103, 'status' => 'applied', 'quantity' => 9, 'stock_status' => 'instock' ), $results[2], 'unchanged: applied, nothing written' );
		$this->assertSame( array( 'error', 'not_found' ), array( $results[3]['status'], $results[3]['code'] ), 'stock not managed' );
		$this->assertSame( array( 'error', 'unsupported_type' ), array( $results[4]['status'], $results[4]['code'] ), 'variable product' );
		$this->assertStringContainsString( 'POST /woodoo/v1/stock', $results[4]['message'] );
		$this->assertSame( array( 'id' => 106, 'status' => 'conflict', 'current' => null ), $results[5], 'no figure: not the one expected' );
		$this->assertSame( array( 'id' => 107, 'status' => 'applied', 'quantity' => 2, 'stock_status' => 'instock' ), $results[6], '"4.000000" is 4' );
		$this->assertSame( array( 'id' => 108, 'status' => 'conflict', 'current' => -2 ), $results[7] );
		$this->assertSame( array( 'error', 'not_found' ), array( $results[8]['status'], $results[8]['code'] ), 'not a product' );
		$this->assertSame( array( 'error', 'not_found' ), array( $results[9]['status'], $results[9]['code'] ) );
		$this->assertSame( array( '0', '7', '9', null, '3', null, '2', '-2' ), array_map( array( __CLASS__, 'stock' ), range( 101, 108 ) ) );
		$this->assertSame( array( array( 'product_type', 'simple' ), array( 'product_visibility', 'outofstock' ) ), self::terms( 101 ) );
		// Only 101 and 107 changed: two saves' worth of actions, nothing for the others.
		$this->assertSame( 2, count( array_keys( $this->hooks, 'woocommerce_product_set_stock', true ) ) );
		$this->assertSame( 1, count( array_keys( $this->hooks, 'woocommerce_product_set_stock_status', true ) ) );
	}

	/**
	 * Backorders and WooCommerce's "out of stock threshold" decide the status, as its save does.
	 */
	public function test_status_follows_the_threshold_and_backorders() {
		update_option( 'woocommerce_notify_no_stock_amount', '2' );
		self::seed_simple( array( 201 => 10, 202 => 10, 203 => 10 ) );
		update_post_meta( 202, '_backorders', 'notify' );
		list( , $data ) = $this->write(
			array(
				array( 'id' => 201, 'expected' => 10, 'quantity' => 2 ),
				array( 'id' => 202, 'expected' => 10, 'quantity' => 1 ),
				array( 'id' => 203, 'expected' => 10, 'quantity' => 3 ),
			)
		);
		$this->assertSame( array( 'outofstock', 'onbackorder', 'instock' ), array_column( $data['results'], 'stock_status' ) );
		$this->assertSame( 'onbackorder', self::lookup( 202 )['stock_status'] );
		$this->assertSame( array( array( 'product_type', 'simple' ) ), self::terms( 202 ), 'onbackorder is not outofstock' );
		$this->assertSame( array( array( 'product_type', 'simple' ), array( 'product_visibility', 'outofstock' ) ), self::terms( 201 ) );
	}

	/**
	 * A thousand changed items in one request cost a few statements per chunk, not per item, and
	 * stay well inside PHP's time limits.
	 */
	public function test_a_thousand_items_are_set_based() {
		global $wpdb;
		$figures = array();
		for ( $id = 1001; $id <= 2000; $id++ ) {
			$figures[ $id ] = 5 + $id % 3;
		}
		self::seed_simple( $figures );
		$items = array();
		foreach ( $figures as $id => $figure ) {
			$items[] = array(
				'id'       => $id,
				'expected' => $figure,
				'quantity' => 0 === $id % 2 ? 0 : $figure + 10,
			);
		}
		$body = self::write_body( $items );
		$this->assertLessThan( Woodoo_Bulk_Route::WRITE_MAX_BODY, strlen( $body ) );
		$queries = array();
		$log     = static function ( $query ) use ( &$queries ) {
			$queries[] = $query;
			return $query;
		};
		add_filter( 'query', $log );
		$start                 = microtime( true );
		list( $status, $data ) = $this->call( '/woodoo/v1/stock/bulk', Woodoo_Bulk_Route::SIGNED_WRITE, $body );
		$seconds               = microtime( true ) - $start;
		remove_filter( 'query', $log );
		$this->assertSame( 200, $status );
		$this->assertSame( array( 'applied' ), array_values( array_unique( array_column( $data['results'], 'status' ) ) ) );
		$this->assertSame( 1000, count( array_keys( $this->hooks, 'woocommerce_product_set_stock', true ) ) );
		$this->assertSame( 500, count( array_keys( $this->hooks, 'woocommerce_product_set_stock_status', true ) ) );
		$writes = preg_grep( '/\A\s*(UPDATE|INSERT|DELETE)\b.*\b(wp_postmeta|wp_posts|wp_wc_product_meta_lookup|wp_term_relationships)\b/s', $queries );
		$chunks = 1000 / Woodoo_Bulk_Route::CHUNK;
		$this->assertLessThanOrEqual( 5 * $chunks, count( $writes ), 'at most five writes per chunk' );
		$this->assertLessThanOrEqual( 20 * $chunks + 30, count( $queries ), 'statements per request, not per item: ' . count( $queries ) );
		$this->assertSame( '0', self::stock( 1002 ) );
		$this->assertSame( (string) ( $figures[1001] + 10 ), self::stock( 1001 ) );
		$this->assertSame( array( 'product_id' => '1002', 'sku' => 'SKU-1002', 'stock_quantity' => '0', 'stock_status' => 'outofstock', 'onsale' => '0', 'total_sales' => '0' ), self::lookup( 1002 ) );
		list( $stored, $counted ) = self::term_count( 'product_visibility', 'outofstock' );
		$this->assertSame( 500, $counted );
		$this->assertSame( $counted, $stored );
		$this->assertLessThan( 15.0, $seconds, '1,000 items took ' . round( $seconds, 2 ) . ' s' );
		fwrite( STDERR, sprintf( "\n[bulk write] 1,000 changed items: %.2f s, %d SQL statements (%d writes)\n", $seconds, count( $queries ), count( $writes ) ) );
	}

	/**
	 * Chunks after the time budget are not started: their items say so, nothing is written.
	 */
	public function test_chunks_after_the_budget_are_not_attempted() {
		$figures = array();
		for ( $id = 3001; $id <= 3000 + Woodoo_Bulk_Route::CHUNK + 2; $id++ ) {
			$figures[ $id ] = 4;
		}
		self::seed_simple( $figures );
		$items = array();
		foreach ( $figures as $id => $figure ) {
			$items[] = array( 'id' => $id, 'expected' => 4, 'quantity' => 3 );
		}
		$calls = 0;
		$clock = static function () use ( &$calls ) {
			return 0 === $calls++ ? 1000.0 : 1000.0 + Woodoo_Bulk_Route::BUDGET;
		};
		$body                  = self::write_body( $items );
		$now                   = time();
		list( $status, $data ) = Woodoo_Bulk_Route::handle_write( $body, Woodoo_Signer::sign( $body, WOODOO_STOCK_SECRET, Woodoo_Bulk_Route::SIGNED_WRITE, $now ), $now, $clock );
		$this->assertSame( 200, $status );
		$statuses = array_column( $data['results'], 'status' );
		$this->assertSame( array_fill( 0, Woodoo_Bulk_Route::CHUNK, 'applied' ), array_slice( $statuses, 0, Woodoo_Bulk_Route::CHUNK ) );
		$this->assertSame( array( 'not_attempted', 'not_attempted' ), array_column( array_slice( $data['results'], Woodoo_Bulk_Route::CHUNK ), 'code' ) );
		$this->assertSame( '3', self::stock( 3001 ) );
		$this->assertSame( '4', self::stock( 3000 + Woodoo_Bulk_Route::CHUNK + 1 ) );
		$this->assertSame( 20, Woodoo_Bulk_Route::budget( 0 ) );
		$this->assertSame( 20, Woodoo_Bulk_Route::budget( 60 ) );
		$this->assertSame( 5, Woodoo_Bulk_Route::budget( 15 ) );
		$this->assertSame( 1, Woodoo_Bulk_Route::budget( 5 ) );
	}

	/**
	 * A checkout that holds the stock row (its UPDATE not yet committed) makes the write wait for
	 * it, then compare with the figure it left: a conflict, and the checkout's figure stays.
	 */
	public function test_a_concurrent_checkout_wins_the_compare_and_set() {
		global $wpdb;
		self::seed_simple( array( 401 => 30, 402 => 8 ) );
		// Another connection: WooCommerce's own stock reduction (wc_update_product_stock()),
		// holding the row for a second before it commits.
		$checkout = sprintf(
			"START TRANSACTION; UPDATE %s SET meta_value = meta_value - 1 WHERE post_id = 401 AND meta_key = '_stock'; SELECT 'locked'; DO SLEEP(1.5); COMMIT;",
			$wpdb->postmeta
		);
		$process  = proc_open(
			array( 'mariadb', '--no-defaults', '--unbuffered', '-uroot', '--socket=' . getenv( 'WOODOO_TEST_MARIADB_SOCKET' ), '-N', '-B', WOODOO_IT_DB, '-e', $checkout ),
			array( 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ),
			$pipes
		);
		$this->assertIsResource( $process );
		$this->assertSame( 'locked', trim( (string) fgets( $pipes[1] ) ), 'the checkout holds the row' );
		$start                 = microtime( true );
		list( $status, $data ) = $this->write(
			array(
				array( 'id' => 401, 'expected' => 30, 'quantity' => 12 ),
				array( 'id' => 402, 'expected' => 8, 'quantity' => 6 ),
			)
		);
		$waited = microtime( true ) - $start;
		fclose( $pipes[1] );
		$error = stream_get_contents( $pipes[2] );
		fclose( $pipes[2] );
		$this->assertSame( 0, proc_close( $process ), $error );
		$this->assertSame( 200, $status );
		$this->assertGreaterThan( 0.5, $waited, 'the write waited for the checkout' );
		$this->assertSame( array( 'id' => 401, 'status' => 'conflict', 'current' => 29 ), $data['results'][0] );
		$this->assertSame( 'applied', $data['results'][1]['status'] );
		$this->assertSame( '29', self::stock( 401 ) );
		$this->assertSame( '6', self::stock( 402 ) );
		// The write waits for a row at most LOCK_WAIT seconds, then gives the connection back as
		// it found it.
		$this->assertSame( '50', $wpdb->get_var( 'SELECT @@SESSION.innodb_lock_wait_timeout' ) );
	}

	/**
	 * Refusals before anything is read or written, in the stock route's words.
	 */
	public function test_refusals() {
		self::seed_simple( array( 501 => 5 ) );
		$item  = array( 'id' => 501, 'expected' => 5, 'quantity' => 4 );
		$body  = self::write_body( array( $item ) );
		$route = '/woodoo/v1/stock/bulk';
		$this->assertSame( 'missing_signature', $this->call_with_header( $route, $body, null )[1]['error'] );
		list( $status, $data ) = $this->call( $route, Woodoo_Signer::PLUGIN_STOCK, $body );
		$this->assertSame( array( 401, 'bad_signature' ), array( $status, $data['error'] ), 'a signature for the stock route is not one for the bulk route' );
		$this->assertSame( array( 401, 'bad_signature' ), $this->status_and_error( $this->call( $route, Woodoo_Bulk_Route::SIGNED_WRITE, $body, null, WOODOO_EVENTS_SECRET ) ) );
		$this->assertSame( array( 401, 'stale_timestamp' ), $this->status_and_error( $this->call( $route, Woodoo_Bulk_Route::SIGNED_WRITE, $body, time() - 301 ) ) );
		$this->assertSame( array( 400, 'too_large' ), $this->status_and_error( $this->call( $route, Woodoo_Bulk_Route::SIGNED_WRITE, str_pad( $body, Woodoo_Bulk_Route::WRITE_MAX_BODY + 1, ' ' ) ) ) );
		$bad = array(
			'(body)'       => '[]',
			'request_id'   => wp_json_encode( array( 'items' => array( $item ) ) ),
			'items'        => wp_json_encode( array( 'items' => 'x', 'request_id' => str_repeat( 'a', 32 ) ) ),
			'items.0.id'   => wp_json_encode( array( 'items' => array( array( 'id' => '501', 'expected' => 5, 'quantity' => 4 ) ), 'request_id' => str_repeat( 'a', 32 ) ) ),
			'items.1.id'   => wp_json_encode( array( 'items' => array( $item, $item ), 'request_id' => str_repeat( 'a', 32 ) ) ),
			'items.0'      => wp_json_encode( array( 'items' => array( $item + array( 'sku' => 'x' ) ), 'request_id' => str_repeat( 'a', 32 ) ) ),
			'items.0.quantity' => wp_json_encode( array( 'items' => array( array( 'id' => 501, 'expected' => 5, 'quantity' => -1 ) ), 'request_id' => str_repeat( 'a', 32 ) ) ),
		);
		foreach ( $bad as $field => $bad_body ) {
			list( $status, $data ) = $this->call( $route, Woodoo_Bulk_Route::SIGNED_WRITE, $bad_body );
			$this->assertSame( array( 400, 'schema', $field ), array( $status, $data['error'], $data['field'] ), $bad_body );
		}
		$too_many = array();
		for ( $i = 1; $i <= Woodoo_Bulk_Route::WRITE_MAX_ITEMS + 1; $i++ ) {
			$too_many[] = array( 'id' => $i, 'expected' => 1, 'quantity' => 1 );
		}
		list( $status, $data ) = $this->call( $route, Woodoo_Bulk_Route::SIGNED_WRITE, self::write_body( $too_many ) );
		$this->assertSame( array( 400, 'schema', 'items' ), array( $status, $data['error'], $data['field'] ) );
		$this->assertSame( '5', self::stock( 501 ), 'nothing written by a refusal' );

		// Accepted once; the same signed request again is a replay.
		$now    = time();
		$header = Woodoo_Signer::sign( $body, WOODOO_STOCK_SECRET, Woodoo_Bulk_Route::SIGNED_WRITE, $now );
		$this->assertSame( 200, $this->call_with_header( $route, $body, $header )[0] );
		$this->assertSame( array( 409, 'replayed' ), $this->status_and_error( $this->call_with_header( $route, $body, $header ) ) );
		$this->assertSame( '4', self::stock( 501 ) );
	}

	/**
	 * Status and error code of an answer.
	 *
	 * @param array $answer array( status, data ).
	 * @return array
	 */
	private function status_and_error( array $answer ) {
		return array( $answer[0], $answer[1]['error'] ?? null );
	}
}
