<?php
use PHPUnit\Framework\TestCase;

final class StockRouteTest extends TestCase {

	const SECRET = 'whsec_stock';

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::SECRET, self::SECRET );
	}

	private function call( $body, $header = null ) {
		$header = null === $header ? Woodoo_Signer::sign( $body, self::SECRET ) : $header;
		return Woodoo_Stock_Route::handle( $body, $header );
	}

	private function updates() {
		return array_values(
			array_filter(
				$GLOBALS['wpdb']->queries,
				function ( $q ) {
					return 0 === strpos( $q, 'UPDATE' );
				}
			)
		);
	}

	public function test_bad_signature_is_401_and_touches_nothing() {
		$body = '{"items":[{"id":33,"expected":24,"quantity":21}]}';
		foreach ( array( '', 't=1,v1=00', Woodoo_Signer::sign( $body, 'other' ), Woodoo_Signer::sign( $body . ' ', self::SECRET ) ) as $header ) {
			list( $status, $data ) = $this->call( $body, $header );
			$this->assertSame( 401, $status );
			$this->assertArrayHasKey( 'error', $data );
		}
		list( $status, $data ) = $this->call( $body, Woodoo_Signer::sign( $body, self::SECRET, time() - 3600 ) );
		$this->assertSame( array( 401, 'stale_timestamp' ), array( $status, $data['error'] ) );
		$this->assertSame( array(), $GLOBALS['wpdb']->queries );
	}

	public function test_applied_is_one_conditional_update_then_woocommerce_catches_up() {
		list( $status, $data ) = $this->call( '{"items":[{"id":33,"expected":24,"quantity":21}]}' );
		$this->assertSame( 200, $status );
		$this->assertSame( array( array( 'id' => 33, 'status' => 'applied', 'quantity' => 21, 'stock_status' => 'instock' ) ), $data['results'] );
		$updates = $this->updates();
		$this->assertSame( "UPDATE wp_postmeta SET meta_value = '21' WHERE post_id = 33 AND meta_key = '_stock' AND meta_value IN ('24', '24.000000')", $updates[0] );
		$this->assertStringContainsString( 'wp_wc_product_meta_lookup', $updates[1] );
		$this->assertSame( 1, $GLOBALS['wc_products'][33]->saved, 'stock status derived by WooCommerce' );
		$this->assertSame( array( 33, 31 ), $GLOBALS['wc_transients_cleared'], 'variation and its parent' );
		$this->assertContains( 'woocommerce_variation_set_stock', array_column( $GLOBALS['wp_done_actions'], 0 ) );
	}

	public function test_conflict_when_the_update_changes_no_row() {
		$GLOBALS['wpdb']->script['query']   = array( 0 );
		$GLOBALS['wpdb']->script['get_var'] = array( '7.000000' );
		list( $status, $data ) = $this->call( '{"items":[{"id":11,"expected":9,"quantity":8}]}' );
		$this->assertSame( 200, $status );
		$this->assertSame( array( array( 'id' => 11, 'status' => 'conflict', 'current' => 7 ) ), $data['results'] );
		$this->assertSame( 0, $GLOBALS['wc_products'][11]->saved );
		$this->assertCount( 1, $this->updates() );
	}

	public function test_writing_the_figure_already_there_is_applied() {
		// MySQL reports changed rows, so UPDATE 24 -> 24 affects none.
		$GLOBALS['wpdb']->script['query']   = array( 0 );
		$GLOBALS['wpdb']->script['get_var'] = array( '24' );
		list( , $data ) = $this->call( '{"items":[{"id":33,"expected":24,"quantity":24}]}' );
		$this->assertSame( 'applied', $data['results'][0]['status'] );
	}

	public function test_results_in_order_with_errors_per_item() {
		$GLOBALS['wpdb']->script['query']   = array( 1, 1, 0 );
		$GLOBALS['wpdb']->script['get_var'] = array( '3' );
		$body = json_encode(
			array(
				'items' => array(
					array( 'id' => 11, 'expected' => 9, 'quantity' => 0 ),
					array( 'id' => 99, 'expected' => 1, 'quantity' => 2 ),
					array( 'id' => 34, 'expected' => 1, 'quantity' => 2 ),
					array( 'id' => 31, 'expected' => 1, 'quantity' => 2 ),
					array( 'id' => 12, 'expected' => 17, 'quantity' => 16 ),
				),
			)
		);
		list( $status, $data ) = $this->call( $body );
		$this->assertSame( 200, $status );
		$this->assertSame( array( 11, 99, 34, 31, 12 ), array_column( $data['results'], 'id' ) );
		$this->assertSame( array( 'applied', 'error', 'error', 'error', 'conflict' ), array_column( $data['results'], 'status' ) );
		$this->assertSame( 'outofstock', $data['results'][0]['stock_status'] );
		$this->assertSame( 'no product 99 managing stock', $data['results'][1]['message'] );
		$this->assertSame( 'not_found', $data['results'][1]['code'] );
		$this->assertStringContainsString( 'takes its stock from product 31', $data['results'][2]['message'] );
	}

	public function test_101_items_is_400_and_nothing_written() {
		$items = array();
		for ( $i = 1; $i <= 101; $i++ ) {
			$items[] = array( 'id' => $i, 'expected' => 1, 'quantity' => 0 );
		}
		list( $status, $data ) = $this->call( json_encode( array( 'items' => $items ) ) );
		$this->assertSame( 400, $status );
		$this->assertSame( 'items', $data['field'] );
		$this->assertSame( array(), $GLOBALS['wpdb']->queries );
		list( $status ) = $this->call( json_encode( array( 'items' => array_slice( $items, 0, 100 ) ) ) );
		$this->assertSame( 200, $status );
	}

	public function test_bad_bodies_are_400() {
		$cases = array(
			'not json'                                              => '(body)',
			'[1,2]'                                                 => '(body)',
			'{"items":{"a":1}}'                                     => 'items',
			'{}'                                                    => 'items',
			'{"items":[5]}'                                         => 'items.0',
			'{"items":[{"id":"33","expected":1,"quantity":1}]}'     => 'items.0.id',
			'{"items":[{"id":0,"expected":1,"quantity":1}]}'        => 'items.0.id',
			'{"items":[{"id":3,"expected":1.5,"quantity":1}]}'      => 'items.0.expected',
			'{"items":[{"id":3,"expected":1,"quantity":null}]}'     => 'items.0.quantity',
			'{"items":[{"id":3,"expected":1,"quantity":true}]}'     => 'items.0.quantity',
		);
		foreach ( $cases as $body => $field ) {
			list( $status, $data ) = $this->call( $body );
			$this->assertSame( array( 400, 'schema', $field ), array( $status, $data['error'], $data['field'] ), $body );
		}
		list( $status, $data ) = $this->call( str_repeat( ' ', 65537 ) );
		$this->assertSame( array( 400, 'too_large' ), array( $status, $data['error'] ) );
		$this->assertSame( array(), $GLOBALS['wpdb']->queries );
	}

	public function test_not_configured_is_503() {
		delete_option( Woodoo_Settings::SECRET );
		list( $status, $data ) = Woodoo_Stock_Route::handle( '{"items":[]}', Woodoo_Signer::sign( '{"items":[]}', '' ) );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
	}

	public function test_rest_adapter_reads_the_raw_body_and_header() {
		$body     = '{"items":[{"id":33,"expected":24,"quantity":21}]}';
		$request  = new WP_REST_Request( $body, array( 'X-Woodoo-Signature' => Woodoo_Signer::sign( $body, self::SECRET ) ) );
		$response = Woodoo_Stock_Route::rest( $request );
		$this->assertSame( 200, $response->status );
		$this->assertSame( 'applied', $response->data['results'][0]['status'] );
		Woodoo_Stock_Route::register();
		$this->assertArrayHasKey( 'rest_api_init', $GLOBALS['wp_actions'] );
	}
}
