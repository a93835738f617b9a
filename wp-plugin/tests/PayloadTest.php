<?php
use PHPUnit\Framework\TestCase;

final class PayloadTest extends TestCase {

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
	}

	public function test_created_order_payload_matches_the_contract() {
		$order   = woodoo_fixture_order( array( 'status' => 'wc-processing' ) );
		$payload = Woodoo_Payload::event( 'id-1', 'order.created', Woodoo_Payload::order( $order ), null, home_url() );
		$this->assertSame( array( 'event_id', 'event', 'store_url', 'sent_at', 'order', 'refund' ), array_keys( $payload ) );
		$this->assertSame(
			array(
				'id'              => 41,
				'number'          => '41',
				'status'          => 'processing',
				'previous_status' => null,
				'date_modified'   => '2026-11-23T13:42:04Z',
				'currency'        => 'EUR',
				'customer'        => array(
					'email'      => 'rest@example.test',
					'first_name' => 'Rest',
					'last_name'  => 'Ünïcode',
				),
				'lines'           => array(
					array( 'line_id' => 6, 'product_id' => 12, 'variation_id' => 0, 'sku' => 'SKU-0002', 'quantity' => 3, 'refunded_quantity' => 0 ),
					array( 'line_id' => 7, 'product_id' => 31, 'variation_id' => 33, 'sku' => 'TSH-M-BLU', 'quantity' => 2, 'refunded_quantity' => 0 ),
				),
			),
			$payload['order']
		);
		$this->assertNull( $payload['refund'] );
		$this->assertSame( 'https://shop.example.com', $payload['store_url'] );
	}

	public function test_variation_line_carries_variation_id_and_the_variations_sku() {
		$order = woodoo_fixture_order();
		$line  = Woodoo_Payload::order( $order )['lines'][1];
		$this->assertSame( 33, $line['variation_id'] );
		$this->assertSame( 31, $line['product_id'] );
		$this->assertSame( 'TSH-M-BLU', $line['sku'] );
	}

	public function test_missing_product_and_missing_values_are_typed_not_null() {
		$order = woodoo_fixture_order(
			array(
				'billing'       => array(),
				'date_modified' => null,
				'line_items'    => array( array( 'id' => 9, 'product_id' => 999, 'quantity' => '2' ) ),
			)
		);
		$data = Woodoo_Payload::order( $order );
		$this->assertSame( '', $data['lines'][0]['sku'] );
		$this->assertSame( 2, $data['lines'][0]['quantity'] );
		$this->assertSame( '', $data['customer']['email'] );
		$this->assertSame( '2026-11-23T13:42:04Z', $data['date_modified'], 'falls back to the creation date' );
	}

	public function test_status_change_carries_previous_status_without_prefix() {
		$order = woodoo_fixture_order( array( 'status' => 'completed' ) );
		$data  = Woodoo_Payload::order( $order, 'wc-processing' );
		$this->assertSame( 'completed', $data['status'] );
		$this->assertSame( 'processing', $data['previous_status'] );
	}

	public function test_partial_refund_with_refunded_quantities_per_line() {
		$order  = woodoo_fixture_order( array( 'refunded' => array( 7 => 1 ) ) );
		$refund = new WC_Order_Refund(
			array(
				'id'         => 43,
				'amount'     => '10.99',
				'line_items' => array(
					array( 'id' => 9, 'product_id' => 31, 'variation_id' => 33, 'quantity' => -1, 'meta' => array( '_refunded_item_id' => '7' ) ),
				),
			)
		);
		$data   = Woodoo_Payload::order( $order );
		$this->assertSame( 0, $data['lines'][0]['refunded_quantity'] );
		$this->assertSame( 1, $data['lines'][1]['refunded_quantity'] );
		$this->assertSame(
			array(
				'id'      => 43,
				'amount'  => '10.99',
				'restock' => true,
				'lines'   => array( array( 'line_id' => 7, 'quantity' => 1 ) ),
			),
			Woodoo_Payload::refund( $refund, true )
		);
	}

	public function test_refund_through_the_hooks_remembers_restock() {
		woodoo_fixture_order( array( 'refunded' => array( 6 => 2 ) ) );
		$GLOBALS['wc_orders'][44] = new WC_Order_Refund(
			array(
				'id'         => 44,
				'amount'     => '5.00',
				'line_items' => array( array( 'id' => 12, 'product_id' => 12, 'quantity' => -2, 'meta' => array( '_refunded_item_id' => 6 ) ) ),
			)
		);
		Woodoo_Hooks::refund_created( 44, array( 'restock_items' => false ) );
		Woodoo_Hooks::refunded( 41, 44 );
		Woodoo_Queue::flush();
		$row     = $GLOBALS['wpdb']->rows( 'wp_woodoo_events' )[0];
		$payload = json_decode( $row['payload'], true );
		$this->assertSame( 'order.refunded', $payload['event'] );
		$this->assertFalse( $payload['refund']['restock'] );
		$this->assertSame( array( array( 'line_id' => 6, 'quantity' => 2 ) ), $payload['refund']['lines'] );
		$this->assertSame( 2, $payload['order']['lines'][0]['refunded_quantity'] );
	}

	public function test_deleted_order_is_snapshotted_before_it_is_gone() {
		woodoo_fixture_order();
		$GLOBALS['wp_post_types'][41] = 'shop_order';
		Woodoo_Hooks::post_trashed( 41 );
		Woodoo_Hooks::trashed( 41 ); // The same trash seen through WooCommerce's hook.
		unset( $GLOBALS['wc_orders'][41] ); // Gone by the end of the request.
		Woodoo_Queue::flush();
		$rows = $GLOBALS['wpdb']->rows( 'wp_woodoo_events' );
		$this->assertCount( 1, $rows );
		$payload = json_decode( $rows[0]['payload'], true );
		$this->assertSame( 'order.deleted', $payload['event'] );
		$this->assertSame( 'trash', $payload['order']['status'] );
		$this->assertSame( 'processing', $payload['order']['previous_status'] );
		$this->assertCount( 2, $payload['order']['lines'] );
	}

	public function test_deleting_a_post_of_another_type_is_ignored() {
		$GLOBALS['wp_post_types'][5] = 'product';
		Woodoo_Hooks::post_deleted( 5 );
		$GLOBALS['wp_post_types'][6] = 'shop_order_placehold';
		Woodoo_Hooks::post_deleted( 6 );
		$this->assertSame( array(), Woodoo_Queue::flush() );
	}

	public function test_unknown_event_is_refused() {
		$this->expectException( InvalidArgumentException::class );
		Woodoo_Payload::event( 'x', 'order.exploded', array(), null, '' );
	}

	public function test_uuid_is_v4() {
		$this->assertMatchesRegularExpression( '/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', Woodoo_Payload::uuid() );
		$this->assertNotSame( Woodoo_Payload::uuid(), Woodoo_Payload::uuid() );
	}
}
