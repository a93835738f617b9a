<?php
use PHPUnit\Framework\TestCase;

final class StockRouteTest extends TestCase {

	const SECRET = 'whsec_stock_0123456789abcdef0123456789abcdef';
	const EVENTS = 'whsec_events_0123456789abcdef0123456789abcdef';

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::STOCK_SECRET, self::SECRET );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
	}

	private function sign( $body, $secret = self::SECRET, $timestamp = null, $route = Woodoo_Signer::PLUGIN_STOCK ) {
		return Woodoo_Signer::sign( $body, $secret, $route, $timestamp );
	}

	private function call( $body, $header = null, $now = null ) {
		$header = null === $header ? $this->sign( $body ) : $header;
		return Woodoo_Stock_Route::handle( $body, $header, $now );
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
		$headers = array(
			'',
			't=1,v1=00',
			$this->sign( $body, str_repeat( 'o', 40 ) ),
			$this->sign( $body . ' ' ),
			$this->sign( $body, self::EVENTS ),
			$this->sign( $body, self::SECRET, null, Woodoo_Signer::SHOP_EVENTS ),
		);
		foreach ( $headers as $header ) {
			list( $status, $data ) = $this->call( $body, $header );
			$this->assertSame( 401, $status );
			$this->assertArrayHasKey( 'error', $data );
		}
		list( $status, $data ) = $this->call( $body, $this->sign( $body, self::SECRET, time() - 3600 ) );
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

	public function test_an_empty_figure_is_a_conflict_showing_none() {
		foreach ( array( 8 => null, 7 => '' ) as $quantity => $figure ) { // another body each: no replay
			$GLOBALS['wpdb']->script['query']   = array( 0 );
			$GLOBALS['wpdb']->script['get_var'] = array( $figure );
			list( $status, $data ) = $this->call( '{"items":[{"id":11,"expected":9,"quantity":' . $quantity . '}]}' );
			$this->assertSame( 200, $status );
			$this->assertSame( array( array( 'id' => 11, 'status' => 'conflict', 'current' => null ) ), $data['results'], var_export( $figure, true ) );
			$this->assertSame( 0, $GLOBALS['wc_products'][11]->saved );
		}
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
			'{"items":[{"id":3,"expected":1.0,"quantity":1}]}'      => 'items.0.expected',
			'{"items":[{"id":3,"expected":-1,"quantity":1}]}'       => 'items.0.expected',
			'{"items":[{"id":3,"expected":1,"quantity":-1}]}'       => 'items.0.quantity',
			'{"items":[{"id":3,"expected":1,"quantity":1000000001}]}' => 'items.0.quantity',
			'{"items":[{"id":9007199254740993,"expected":1,"quantity":1}]}' => 'items.0.id',
			'{"items":[{"id":3,"expected":1}]}'                     => 'items.0.quantity',
			'{"items":[{"id":3,"expected":1,"quantity":[[1]]}]}'    => '(body)',
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

	public function test_bounds_are_inclusive() {
		$body = json_encode( array( 'items' => array( array( 'id' => 9007199254740992, 'expected' => 0, 'quantity' => 1000000000 ) ) ) );
		list( $status, $data ) = $this->call( $body );
		$this->assertSame( 200, $status );
		$this->assertSame( 'not_found', $data['results'][0]['code'] );
	}

	public function test_messages_name_the_item_and_field_without_echoing_the_input() {
		list( $status, $data ) = $this->call( '{"items":[{"id":11,"expected":9,"quantity":8},{"id":12,"expected":17,"quantity":"<script>x</script>"}]}' );
		$this->assertSame( array( 400, 'items.1.quantity' ), array( $status, $data['field'] ) );
		$this->assertStringContainsString( 'items.1', $data['message'] );
		$this->assertStringNotContainsString( 'script', json_encode( $data ) );
		$this->assertSame( array(), $GLOBALS['wpdb']->queries, 'nothing of the valid first item is written either' );
	}

	public function test_not_configured_is_503_in_words() {
		delete_option( Woodoo_Settings::STOCK_SECRET );
		list( $status, $data ) = Woodoo_Stock_Route::handle( '{"items":[]}', 't=1,v2=' . str_repeat( '0', 64 ) );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
		$this->assertStringContainsString( 'stock secret is not set', $data['message'] );
		update_option( Woodoo_Settings::STOCK_SECRET, 'short-secret' );
		$body = '{"items":[]}';
		list( $status, $data ) = Woodoo_Stock_Route::handle( $body, 't=1,v2=' . hash_hmac( 'sha256', '1.' . Woodoo_Signer::PLUGIN_STOCK . '.' . $body, 'short-secret' ), 1 );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
		$this->assertStringContainsString( 'shorter than 32', $data['message'] );
		update_option( Woodoo_Settings::STOCK_SECRET, self::EVENTS );
		list( $status, $data ) = $this->call( $body, $this->sign( $body, self::EVENTS ) );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ), 'a stock secret equal to the events secret is not used' );
		$this->assertSame( array(), $GLOBALS['wpdb']->queries );
	}

	public function test_a_replayed_request_is_409_and_applied_once() {
		$body   = '{"items":[{"id":33,"expected":24,"quantity":21}]}';
		$t      = 1795441954;
		$header = $this->sign( $body, self::SECRET, $t );
		$this->assertSame( 200, $this->call( $body, $header, $t )[0] );
		$writes = count( $this->updates() );
		foreach ( array( $header, strtoupper( $header ), 'v2=' . substr( $header, strpos( $header, 'v2=' ) + 3 ) . ',t=' . $t, $header . ',v2=' . str_repeat( 'a', 64 ) ) as $again ) {
			$again = str_replace( array( 'T=', 'V2=' ), array( 't=', 'v2=' ), $again );
			list( $status, $data ) = $this->call( $body, $again, $t + 299 );
			$this->assertSame( array( 409, 'replayed' ), array( $status, $data['error'] ), $again );
			$this->assertStringContainsString( 'replayed request', $data['message'] );
		}
		$this->assertSame( $writes, count( $this->updates() ), 'nothing written again' );
		$this->assertSame( 21, $GLOBALS['wc_products'][33]->data['stock'] );
		// The same body signed a second later is a new request.
		$this->assertSame( 200, $this->call( $body, $this->sign( $body, self::SECRET, $t + 1 ), $t + 1 )[0] );
	}

	public function test_the_replay_memory_forgets_what_can_no_longer_be_replayed() {
		$body = '{"items":[]}';
		$t    = 1795441954;
		$this->assertSame( 200, $this->call( $body, $this->sign( $body, self::SECRET, $t ), $t )[0] );
		$this->assertCount( 1, $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ) );
		$this->assertSame( $t + 300, array_values( $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ) )[0]['expires_at'] );
		// Still remembered at the last second the signature is accepted...
		$this->assertSame( 200, $this->call( $body, $this->sign( $body, self::SECRET, $t + 1 ), $t + 300 )[0] );
		$this->assertCount( 2, $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ) );
		// ...and forgotten after it, when the replay would be stale anyway.
		$this->assertSame( 401, $this->call( $body, $this->sign( $body, self::SECRET, $t ), $t + 301 )[0] );
		$this->assertSame( 200, $this->call( $body, $this->sign( $body, self::SECRET, $t + 400 ), $t + 400 )[0] );
		$this->assertCount( 1, $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ) );
	}

	public function test_without_a_replay_memory_nothing_is_written() {
		$GLOBALS['wpdb']->replay_broken = true;
		list( $status, $data ) = $this->call( '{"items":[{"id":33,"expected":24,"quantity":21}]}' );
		$this->assertSame( array( 503, 'replay_unavailable' ), array( $status, $data['error'] ) );
		$this->assertSame( array(), $this->updates() );
		$this->assertSame( 24, $GLOBALS['wc_products'][33]->data['stock'] );
	}

	public function test_rest_adapter_reads_the_raw_body_and_header() {
		$body     = '{"items":[{"id":33,"expected":24,"quantity":21}]}';
		$request  = new WP_REST_Request( $body, array( 'X-Woodoo-Signature' => $this->sign( $body ) ) );
		$response = Woodoo_Stock_Route::rest( $request );
		$this->assertSame( 200, $response->status );
		$this->assertSame( 'applied', $response->data['results'][0]['status'] );
		Woodoo_Stock_Route::register();
		$this->assertArrayHasKey( 'rest_api_init', $GLOBALS['wp_actions'] );
	}
}
