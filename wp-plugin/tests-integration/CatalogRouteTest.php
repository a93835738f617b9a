<?php
/**
 * The catalog route on real WordPress and MariaDB: what each item says, the cursor, the
 * refusals, and 20,000 products in a handful of requests.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

/**
 * POST /woodoo/v1/catalog.
 */
class CatalogRouteTest extends Woodoo_IT_TestCase {

	/**
	 * A catalog page, signed: array( status, data ).
	 *
	 * @param array $query after_id, limit.
	 * @return array
	 */
	private function page( array $query ) {
		$body = wp_json_encode( $query + array( 'request_id' => bin2hex( random_bytes( 16 ) ) ) );
		return $this->call( '/woodoo/v1/catalog', Woodoo_Bulk_Route::SIGNED_CATALOG, $body );
	}

	/**
	 * Every field of every kind of product, as the tables hold it.
	 */
	public function test_items_say_what_the_tables_hold() {
		Woodoo_IT_Catalog::seed(
			array(
				array(
					'id'   => 11,
					'type' => 'simple',
					'meta' => array(
						'_sku'          => 'WDG-1001',
						'_manage_stock' => 'yes',
						'_stock'        => '24.000000',
						'_stock_status' => 'instock',
						'_backorders'   => 'no',
					),
				),
				array(
					'id'   => 31,
					'type' => 'variable',
					'meta' => array(
						'_sku'          => 'TSH',
						'_manage_stock' => 'no',
						'_stock_status' => 'instock',
					),
				),
				array(
					'id'     => 33,
					'type'   => 'variation',
					'parent' => 31,
					'status' => 'private',
					'title'  => 'T-shirt - Medium, Blue',
					'meta'   => array(
						'_sku'          => 'TSH-M-BLU',
						'_manage_stock' => 'yes',
						'_stock'        => '0',
						'_stock_status' => 'outofstock',
						'_backorders'   => 'notify',
					),
				),
				array(
					'id'   => 36,
					'type' => 'simple',
					'meta' => array(
						'_manage_stock' => 'no',
						'_stock'        => '',
						'_stock_status' => 'instock',
					),
				),
				array(
					'id'   => 37,
					'type' => 'simple',
					'meta' => array(
						'_sku'          => 'NEG',
						'_manage_stock' => 'yes',
						'_stock'        => '-3',
						'_stock_status' => 'onbackorder',
						'_backorders'   => 'yes',
					),
				),
				array(
					'id'     => 38,
					'type'   => 'simple',
					'status' => 'trash',
					'meta'   => array( '_sku' => 'GONE' ),
				),
				array(
					'id'     => 39,
					'type'   => 'simple',
					'status' => 'draft',
					'meta'   => array( '_sku' => 'DRAFT' ),
				),
			)
		);
		list( $status, $data ) = $this->page( array() );
		$this->assertSame( 200, $status, wp_json_encode( $data ) );
		$this->assertNull( $data['next_after_id'] );
		$this->assertSame(
			array(
				array( 'id' => 11, 'parent_id' => 0, 'type' => 'simple', 'sku' => 'WDG-1001', 'manage_stock' => true, 'stock_quantity' => 24, 'stock_status' => 'instock', 'backorders' => 'no', 'name' => 'Product 11' ),
				array( 'id' => 31, 'parent_id' => 0, 'type' => 'variable', 'sku' => 'TSH', 'manage_stock' => false, 'stock_quantity' => null, 'stock_status' => 'instock', 'backorders' => 'no', 'name' => 'Product 31' ),
				array( 'id' => 33, 'parent_id' => 31, 'type' => 'variation', 'sku' => 'TSH-M-BLU', 'manage_stock' => true, 'stock_quantity' => 0, 'stock_status' => 'outofstock', 'backorders' => 'notify', 'name' => 'T-shirt - Medium, Blue' ),
				array( 'id' => 36, 'parent_id' => 0, 'type' => 'simple', 'sku' => '', 'manage_stock' => false, 'stock_quantity' => null, 'stock_status' => 'instock', 'backorders' => 'no', 'name' => 'Product 36' ),
				array( 'id' => 37, 'parent_id' => 0, 'type' => 'simple', 'sku' => 'NEG', 'manage_stock' => true, 'stock_quantity' => -3, 'stock_status' => 'onbackorder', 'backorders' => 'yes', 'name' => 'Product 37' ),
				array( 'id' => 39, 'parent_id' => 0, 'type' => 'simple', 'sku' => 'DRAFT', 'manage_stock' => false, 'stock_quantity' => null, 'stock_status' => null, 'backorders' => 'no', 'name' => 'Product 39' ),
			),
			$data['items']
		);
	}

	/**
	 * A name is its title's first NAME_CHARS characters (characters, not bytes), so that a page
	 * stays small whatever the titles.
	 */
	public function test_names_are_cut_to_their_first_characters() {
		$title = str_repeat( 'é', Woodoo_Bulk_Route::NAME_CHARS ) . ' and then a great deal more';
		Woodoo_IT_Catalog::seed(
			array(
				array(
					'id'    => 11,
					'type'  => 'simple',
					'title' => $title,
					'meta'  => array( '_sku' => 'LONG' ),
				),
			)
		);
		list( $status, $data ) = $this->page( array() );
		$this->assertSame( 200, $status );
		$this->assertSame( str_repeat( 'é', Woodoo_Bulk_Route::NAME_CHARS ), $data['items'][0]['name'] );
	}

	/**
	 * The cursor: pages by id, the last page says there is no next one.
	 */
	public function test_pages_follow_the_cursor() {
		$products = array();
		foreach ( array( 5, 6, 9, 12, 40 ) as $id ) {
			$products[] = array(
				'id'   => $id,
				'type' => 'simple',
				'meta' => array(
					'_manage_stock' => 'yes',
					'_stock'        => (string) $id,
				),
			);
		}
		Woodoo_IT_Catalog::seed( $products );
		list( , $first ) = $this->page( array( 'limit' => 2 ) );
		$this->assertSame( array( 5, 6 ), array_column( $first['items'], 'id' ) );
		$this->assertSame( 6, $first['next_after_id'] );
		list( , $second ) = $this->page( array( 'after_id' => 6, 'limit' => 2 ) );
		$this->assertSame( array( 9, 12 ), array_column( $second['items'], 'id' ) );
		list( , $third ) = $this->page( array( 'after_id' => 12, 'limit' => 2 ) );
		$this->assertSame( array( 40 ), array_column( $third['items'], 'id' ) );
		$this->assertNull( $third['next_after_id'] );
		list( , $past ) = $this->page( array( 'after_id' => 40 ) );
		$this->assertSame( array(), $past['items'] );
		$this->assertNull( $past['next_after_id'] );
	}

	/**
	 * Refusals, in the stock route's words; each signed request is read once.
	 */
	public function test_refusals() {
		$route = '/woodoo/v1/catalog';
		$body  = wp_json_encode( array( 'request_id' => str_repeat( 'b', 32 ) ) );
		$this->assertSame( 401, $this->call_with_header( $route, $body, null )[0] );
		$this->assertSame( 401, $this->call( $route, Woodoo_Bulk_Route::SIGNED_WRITE, $body )[0], 'signed for another route' );
		$this->assertSame( 400, $this->call( $route, Woodoo_Bulk_Route::SIGNED_CATALOG, str_pad( $body, 1025, ' ' ) )[0] );
		$bad = array(
			'request_id' => array( 'limit' => 5 ),
			'limit'      => array( 'limit' => Woodoo_Bulk_Route::MAX_LIMIT + 1, 'request_id' => str_repeat( 'b', 32 ) ),
			'after_id'   => array( 'after_id' => -1, 'request_id' => str_repeat( 'b', 32 ) ),
			'(body)'     => array( 'other' => 1, 'request_id' => str_repeat( 'b', 32 ) ),
		);
		foreach ( $bad as $field => $query ) {
			list( $status, $data ) = $this->call( $route, Woodoo_Bulk_Route::SIGNED_CATALOG, wp_json_encode( $query ) );
			$this->assertSame( array( 400, 'schema', $field ), array( $status, $data['error'], $data['field'] ) );
		}
		$now    = time();
		$header = Woodoo_Signer::sign( $body, WOODOO_STOCK_SECRET, Woodoo_Bulk_Route::SIGNED_CATALOG, $now );
		$this->assertSame( 200, $this->call_with_header( $route, $body, $header )[0] );
		$this->assertSame( 409, $this->call_with_header( $route, $body, $header )[0] );
	}

	/**
	 * 20,000 products (a third of them variations) listed in five requests of 5,000, then their
	 * stock written back in twenty bulk writes: what the REST API does in 200 pages and 200
	 * batches (tests/fixtures/woocommerce11/README.md: 17-31 s to list, 196-420 s to write).
	 */
	public function test_twenty_thousand_products_in_a_handful_of_requests() {
		$products = array();
		for ( $id = 10001; $id <= 30000; $id++ ) {
			$variation  = 0 === $id % 3;
			$products[] = array(
				'id'     => $id,
				'type'   => $variation ? 'variation' : 'simple',
				'parent' => $variation ? $id - 1 : 0,
				'meta'   => array(
					'_sku'          => 'SKU-' . $id,
					'_manage_stock' => 'yes',
					'_stock'        => (string) ( $id % 50 ),
					'_stock_status' => $id % 50 > 0 ? 'instock' : 'outofstock',
					'_backorders'   => 'no',
				),
				'lookup' => array(
					'sku'            => 'SKU-' . $id,
					'stock_quantity' => $id % 50,
					'stock_status'   => $id % 50 > 0 ? 'instock' : 'outofstock',
				),
			);
		}
		Woodoo_IT_Catalog::seed( $products );
		$start    = microtime( true );
		$items    = array();
		$requests = 0;
		$after    = 0;
		do {
			list( $status, $data ) = $this->page( array( 'after_id' => $after, 'limit' => Woodoo_Bulk_Route::MAX_LIMIT ) );
			$this->assertSame( 200, $status );
			++$requests;
			$items = array_merge( $items, $data['items'] );
			$after = $data['next_after_id'];
		} while ( null !== $after );
		$read = microtime( true ) - $start;
		$this->assertSame( 20000, count( $items ) );
		$this->assertSame( range( 10001, 30000 ), array_column( $items, 'id' ) );
		$this->assertLessThanOrEqual( 5, $requests );
		$this->assertSame( 'variation', $items[1]['type'] );
		$this->assertSame( 10001, $items[1]['parent_id'] );

		$start  = microtime( true );
		$writes = 0;
		foreach ( array_chunk( $items, Woodoo_Bulk_Route::WRITE_MAX_ITEMS ) as $chunk ) {
			$batch = array();
			foreach ( $chunk as $item ) {
				$batch[] = array(
					'id'       => $item['id'],
					'expected' => $item['stock_quantity'],
					'quantity' => $item['stock_quantity'] + 1,
				);
			}
			list( $status, $data ) = $this->write( $batch );
			++$writes;
			$this->assertSame( 200, $status );
			$this->assertSame( array( 'applied' ), array_values( array_unique( array_column( $data['results'], 'status' ) ) ) );
		}
		$write = microtime( true ) - $start;
		$this->assertSame( 20, $writes );
		$this->assertSame( '1', self::meta( 10050 )['_stock'] );
		$this->assertSame( 'instock', self::meta( 10050 )['_stock_status'] );
		$this->assertLessThan( 60.0, $read + $write );
		fwrite( STDERR, sprintf( "\n[catalog] 20,000 products: listed in %d requests, %.2f s; written back (all changed) in %d requests, %.2f s\n", $requests, $read, $writes, $write ) );
	}
}
