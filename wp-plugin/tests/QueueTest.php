<?php
use PHPUnit\Framework\TestCase;

final class QueueTest extends TestCase {

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::URL_OPTION, 'https://woodoo.example.com/webhooks/woocommerce' );
		update_option( Woodoo_Settings::EVENTS_SECRET, 'whsec_events_0123456789abcdef0123456789abcdef' );
		update_option( Woodoo_Settings::STOCK_SECRET, 'whsec_stock_0123456789abcdef0123456789abcdef' );
	}

	private function stored() {
		return array_map(
			function ( $row ) {
				return json_decode( $row['payload'], true );
			},
			$GLOBALS['wpdb']->rows( 'wp_woodoo_events' )
		);
	}

	public function test_register_hooks_every_contract_event() {
		Woodoo_Hooks::register();
		foreach ( array( 'woocommerce_new_order', 'woocommerce_order_status_changed', 'woocommerce_payment_complete', 'woocommerce_order_refunded', 'woocommerce_refund_created', 'woocommerce_before_trash_order', 'woocommerce_before_delete_order', 'wp_trash_post', 'before_delete_post', Woodoo_Queue::HOOK ) as $hook ) {
			$this->assertArrayHasKey( $hook, $GLOBALS['wp_actions'], $hook );
		}
		$this->assertSame( 3, $GLOBALS['wp_actions']['woocommerce_order_status_changed'][0][2], 'needs order id, from and to' );
	}

	public function test_cli_created_order_is_snapshotted_at_the_end_of_the_request() {
		// Recorded: wc_create_order() fires woocommerce_new_order before the lines are added.
		$order = woodoo_fixture_order( array( 'status' => 'pending', 'line_items' => array() ) );
		Woodoo_Hooks::register();
		do_action( 'woocommerce_new_order', 41, $order );
		$this->assertSame( array(), $GLOBALS['wpdb']->rows( 'wp_woodoo_events' ), 'nothing stored mid-request' );
		$this->assertTrue( has_action_callback( 'shutdown', array( 'Woodoo_Queue', 'flush' ) ) );
		$order->data['line_items'] = woodoo_fixture_order()->data['line_items'];
		$GLOBALS['wc_orders'][41]  = $order;
		do_action( 'shutdown' );
		$events = $this->stored();
		$this->assertCount( 1, $events );
		$this->assertSame( 'order.created', $events[0]['event'] );
		$this->assertCount( 2, $events[0]['order']['lines'] );
	}

	public function test_block_checkout_sequence_gives_one_event_per_hook_with_the_final_state() {
		// Recorded Store API checkout: new_order (pending), draft -> pending, pending -> processing.
		woodoo_fixture_order( array( 'status' => 'processing' ) );
		Woodoo_Hooks::register();
		do_action( 'woocommerce_new_order', 41 );
		do_action( 'woocommerce_order_status_changed', 41, 'checkout-draft', 'pending' );
		do_action( 'woocommerce_order_status_changed', 41, 'pending', 'processing' );
		do_action( 'shutdown' );
		$events = $this->stored();
		$this->assertSame( array( 'order.created', 'order.status_changed', 'order.status_changed' ), array_column( $events, 'event' ) );
		$this->assertSame( array( 'processing', 'processing', 'processing' ), array_column( array_column( $events, 'order' ), 'status' ) );
		$this->assertSame( array( 'pending', 'checkout-draft', 'pending' ), array_column( array_column( $events, 'order' ), 'previous_status' ) );
		$this->assertCount( 3, array_unique( array_column( $events, 'event_id' ) ) );
	}

	public function test_cancel_and_payment() {
		woodoo_fixture_order( array( 'status' => 'cancelled' ) );
		Woodoo_Hooks::status_changed( 41, 'processing', 'cancelled' );
		Woodoo_Hooks::paid( 41 );
		Woodoo_Queue::flush();
		$this->assertSame( array( 'order.cancelled', 'order.paid' ), array_column( $this->stored(), 'event' ) );
	}

	public function test_store_schedules_a_durable_action_and_sends_at_once_without_blocking() {
		woodoo_fixture_order();
		Woodoo_Hooks::created( 41 );
		$before = time();
		$ids    = Woodoo_Queue::flush();
		$this->assertCount( 1, $ids );
		$action = $GLOBALS['as_actions'][0];
		$this->assertSame( Woodoo_Queue::HOOK, $action['hook'] );
		$this->assertSame( array( $ids[0] ), $action['args'] );
		$this->assertSame( 'woodoo', $action['group'] );
		$this->assertGreaterThanOrEqual( $before + 60, $action['timestamp'] );
		$this->assertFalse( $action['unique'], 'Action Scheduler 3.x would let one pending event block all others' );
		$request = $GLOBALS['wp_http_requests'][0];
		$this->assertFalse( $request['args']['blocking'] );
		$this->assertSame( 'https://woodoo.example.com/webhooks/woocommerce', $request['url'] );
		$this->assertTrue( Woodoo_Signer::verify( $request['args']['body'], $request['args']['headers']['X-Woodoo-Signature'], array( 'whsec_events_0123456789abcdef0123456789abcdef' ), Woodoo_Signer::SHOP_EVENTS ) );
		$row = Woodoo_Queue::find( $ids[0] );
		$this->assertNull( $row['delivered_at'], 'kept until the daemon answered' );
		$this->assertSame( 1, Woodoo_Queue::waiting_count() );
	}

	public function test_scheduling_a_new_event_twice_makes_one_action() {
		Woodoo_Queue::schedule( 'e1', 100, true );
		Woodoo_Queue::schedule( 'e1', 100, true );
		Woodoo_Queue::schedule( 'e2', 100, true );
		$this->assertCount( 2, $GLOBALS['as_actions'] );
		Woodoo_Queue::schedule( 'e1', 200, false ); // A retry from the running action is never suppressed.
		$this->assertCount( 3, $GLOBALS['as_actions'] );
	}

	public function test_records_after_the_flush_are_stored_at_once() {
		woodoo_fixture_order();
		Woodoo_Queue::flush();
		Woodoo_Hooks::paid( 41 );
		$this->assertCount( 1, $GLOBALS['wpdb']->rows( 'wp_woodoo_events' ) );
	}

	public function test_non_shop_orders_are_ignored() {
		woodoo_fixture_order( array( 'type' => 'shop_subscription' ) );
		Woodoo_Hooks::created( 41 );
		Woodoo_Hooks::created( 0 );
		$this->assertSame( array(), Woodoo_Queue::flush() );
	}

	public function test_a_failing_snapshot_never_breaks_the_request() {
		woodoo_fixture_order();
		$GLOBALS['wpdb'] = new class() extends Fake_WPDB {
			public function insert( $table, $data, $format = null ) {
				$this->last_error = 'disk full';
				return false;
			}
		};
		Woodoo_Hooks::created( 41 );
		$this->assertSame( array(), Woodoo_Queue::flush() );
		$this->assertStringContainsString( 'disk full', $GLOBALS['wc_log'][0] );
	}

	public function test_sweep_reschedules_overdue_events() {
		$GLOBALS['wpdb']->script['get_col'] = array( array( 'lost-1', 'lost-2' ) );
		$this->assertSame( 2, Woodoo_Queue::sweep( 10000 ) );
		$this->assertSame( array( array( 'lost-1' ), array( 'lost-2' ) ), array_column( $GLOBALS['as_actions'], 'args' ) );
		$queries = implode( "\n", $GLOBALS['wpdb']->queries );
		$this->assertStringContainsString( 'superseded_at IS NULL AND next_attempt <= 9700', $queries, 'superseded events are not rescheduled' );
		$this->assertStringContainsString( '(superseded_at IS NOT NULL AND superseded_at < ' . ( 10000 - 30 * 86400 ) . ')', $queries, 'and pruned like delivered ones' );
	}

	public function test_sweep_evaluated_skips_finished_and_superseded_events() {
		foreach ( array( 'waiting', 'delivered', 'gave_up', 'superseded' ) as $i => $state ) {
			$GLOBALS['wpdb']->tables['wp_woodoo_events'][] = array(
				'id'            => $i + 1,
				'event_id'      => $state,
				'next_attempt'  => 100,
				'delivered_at'  => 'delivered' === $state ? 90 : null,
				'gave_up_at'    => 'gave_up' === $state ? 90 : null,
				'superseded_at' => 'superseded' === $state ? 90 : null,
			);
		}
		$this->assertSame( 1, Woodoo_Queue::sweep( 1000 ) );
		$this->assertSame( array( array( 'waiting' ) ), array_column( $GLOBALS['as_actions'], 'args' ) );
		$this->assertSame( array( 'waiting' ), Woodoo_Queue::waiting_ids( 10 ) );
	}

	public function test_schema_3_adds_the_supersession_and_last_attempt_columns_on_update() {
		update_option( Woodoo_Queue::DB_OPTION, '2' );
		Woodoo_Queue::maybe_install();
		$this->assertSame( '3', get_option( Woodoo_Queue::DB_OPTION ) );
		$schema = implode( "\n", $GLOBALS['wp_dbdelta'][0] );
		$this->assertStringContainsString( 'superseded_at bigint(20) unsigned NULL', $schema );
		$this->assertStringContainsString( 'last_attempt_at bigint(20) unsigned NULL', $schema );
		$this->assertStringContainsString( 'KEY order_id (order_id)', $schema, 'supersession looks events up by order' );
		$this->assertStringContainsString( 'wp_woodoo_replay', $schema );
		Woodoo_Queue::maybe_install();
		$this->assertCount( 1, $GLOBALS['wp_dbdelta'], 'once per version' );
	}
}
