<?php
use PHPUnit\Framework\TestCase;

final class SenderTest extends TestCase {

	const T0 = 1795441954;

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::URL_OPTION, 'https://woodoo.example.com/webhooks/woocommerce' );
		update_option( Woodoo_Settings::SECRET, 'whsec_test' );
	}

	private function queued_event() {
		$order   = woodoo_fixture_order();
		$payload = Woodoo_Payload::event( Woodoo_Payload::uuid(), 'order.created', Woodoo_Payload::order( $order ), null, home_url() );
		return Woodoo_Queue::store( $payload, self::T0 );
	}

	public function test_backoff_doubles_from_one_minute_and_caps_at_six_hours() {
		$sequence = array_map( array( 'Woodoo_Sender', 'backoff' ), range( 1, 12 ) );
		$this->assertSame( array( 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600, 21600 ), $sequence );
		$this->assertSame( 21600, Woodoo_Sender::backoff( 500 ) );
	}

	public function test_classification() {
		$this->assertSame( 'delivered', Woodoo_Sender::classify( woodoo_http( 202, '{"status":"duplicate"}' ) )[0] );
		$this->assertSame( 'retry', Woodoo_Sender::classify( woodoo_http( 500 ) )[0] );
		$this->assertSame( 'retry', Woodoo_Sender::classify( woodoo_http( 503, '{"error":"orders_disabled"}' ) )[0] );
		$this->assertSame( 'retry', Woodoo_Sender::classify( woodoo_http( 429 ) )[0] );
		$this->assertSame( 'retry', Woodoo_Sender::classify( new WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out' ) )[0] );
		$this->assertSame( 'retry', Woodoo_Sender::classify( woodoo_http( 301 ) )[0] );
		$this->assertSame( 'give_up', Woodoo_Sender::classify( woodoo_http( 400, '{"error":"schema","message":"bad","field":"order.lines"}' ) )[0] );
		$this->assertSame( 'give_up', Woodoo_Sender::classify( woodoo_http( 401, '{"error":"bad_signature"}' ) )[0] );
		$this->assertSame( 'HTTP 400 error=schema message=bad field=order.lines', Woodoo_Sender::classify( woodoo_http( 400, '{"error":"schema","message":"bad","field":"order.lines"}' ) )[2] );
	}

	public function test_delivery_marks_the_event_and_notes_the_order() {
		$id = $this->queued_event();
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $id, self::T0 + 60 ) );
		$row = Woodoo_Queue::find( $id );
		$this->assertSame( self::T0 + 60, $row['delivered_at'] );
		$this->assertSame( 1, $row['attempts'] );
		$this->assertStringContainsString( 'order.created delivered', $GLOBALS['wc_orders'][41]->notes[0] );
		$request = $GLOBALS['wp_http_requests'][0];
		$this->assertTrue( $request['args']['blocking'] );
		$this->assertLessThanOrEqual( 15, $request['args']['timeout'] );
		$body = json_decode( $request['args']['body'], true );
		$this->assertSame( '2026-11-23T13:53:34Z', $body['sent_at'] );
		$this->assertTrue( Woodoo_Signer::verify( $request['args']['body'], $request['args']['headers']['X-Woodoo-Signature'], array( 'whsec_test' ), self::T0 + 60 ) );
		$this->assertSame( 'skip', Woodoo_Sender::deliver( $id, self::T0 + 120 ), 'a delivered event is not sent again' );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'] );
	}

	public function test_event_id_is_stable_across_retries_and_the_event_is_kept() {
		$id                              = $this->queued_event();
		$GLOBALS['wp_http_responses']    = array( new WP_Error( 'http_request_failed', 'timed out' ), woodoo_http( 502 ), woodoo_http( 429 ), woodoo_http( 202, '{"status":"duplicate"}' ) );
		$GLOBALS['as_actions']           = array();
		$now                             = self::T0 + 60;
		$outcomes                        = array();
		for ( $i = 0; $i < 4; $i++ ) {
			$outcomes[] = Woodoo_Sender::deliver( $id, $now );
			$row        = Woodoo_Queue::find( $id );
			$now        = $row['next_attempt'] ? $row['next_attempt'] : $now;
		}
		$this->assertSame( array( 'retry', 'retry', 'retry', 'delivered' ), $outcomes );
		$ids = array_map(
			function ( $r ) {
				return json_decode( $r['args']['body'], true )['event_id'];
			},
			$GLOBALS['wp_http_requests']
		);
		$this->assertSame( array( $id, $id, $id, $id ), $ids );
		$this->assertSame( array( self::T0 + 120, self::T0 + 240, self::T0 + 480 ), array_column( $GLOBALS['as_actions'], 'timestamp' ) );
		$this->assertSame( array( array( $id ), array( $id ), array( $id ) ), array_column( $GLOBALS['as_actions'], 'args' ) );
		$notes = $GLOBALS['wc_orders'][41]->notes;
		$this->assertCount( 2, $notes, 'one note on the first failure, one on delivery' );
		$this->assertStringContainsString( 'timed out', $notes[0] );
		$this->assertSame( 4, Woodoo_Queue::find( $id )['attempts'] );
	}

	public function test_4xx_gives_up_at_once_with_a_note() {
		$id                           = $this->queued_event();
		$GLOBALS['wp_http_responses'] = array( woodoo_http( 400, '{"error":"schema","message":"order.lines.0.sku: too long","field":"order.lines.0.sku"}' ) );
		$this->assertSame( 'give_up', Woodoo_Sender::deliver( $id, self::T0 + 60 ) );
		$row = Woodoo_Queue::find( $id );
		$this->assertSame( self::T0 + 60, $row['gave_up_at'] );
		$this->assertStringContainsString( 'too long', $row['last_error'] );
		$this->assertStringContainsString( 'refused', $GLOBALS['wc_orders'][41]->notes[0] );
		$this->assertSame( array(), array_slice( $GLOBALS['as_actions'], 1 ), 'no retry scheduled' );
		$this->assertSame( 0, Woodoo_Queue::waiting_count() );
	}

	public function test_gives_up_after_seven_days() {
		$id  = $this->queued_event();
		$now = self::T0 + 60;
		for ( $i = 0; $i < 100; $i++ ) {
			$GLOBALS['wp_http_responses'] = array( woodoo_http( 503 ) );
			$outcome                      = Woodoo_Sender::deliver( $id, $now );
			if ( 'retry' !== $outcome ) {
				break;
			}
			$now = Woodoo_Queue::find( $id )['next_attempt'];
			$this->assertLessThanOrEqual( self::T0 + 7 * 86400, $now );
		}
		$this->assertSame( 'give_up', $outcome );
		$row = Woodoo_Queue::find( $id );
		$this->assertGreaterThan( self::T0 + 7 * 86400 - 21600, $row['gave_up_at'] );
		$this->assertStringContainsString( 'gave up', end( $GLOBALS['wc_orders'][41]->notes ) );
		$this->assertStringContainsString( 'HTTP 503', end( $GLOBALS['wc_orders'][41]->notes ) );
	}

	public function test_not_configured_keeps_the_event() {
		$id = $this->queued_event();
		delete_option( Woodoo_Settings::SECRET );
		$this->assertSame( 'retry', Woodoo_Sender::deliver( $id, self::T0 + 60 ) );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
		$this->assertStringContainsString( 'not set', Woodoo_Queue::find( $id )['last_error'] );
	}

	public function test_deleted_order_events_make_no_notes() {
		$order   = woodoo_fixture_order();
		$payload = Woodoo_Payload::event( 'd-1', 'order.deleted', Woodoo_Payload::order( $order ), null, home_url() );
		Woodoo_Queue::store( $payload, self::T0 );
		Woodoo_Sender::deliver( 'd-1', self::T0 + 60 );
		$this->assertSame( array(), $order->notes );
	}

	public function test_test_button_reports_the_daemons_answer() {
		$GLOBALS['wp_http_responses'] = array( woodoo_http( 400, '{"error":"schema","message":"event: bad","field":"event"}' ) );
		list( $ok, $message ) = Woodoo_Sender::test();
		$this->assertTrue( $ok );
		$this->assertStringContainsString( 'field=event', $message );
		$GLOBALS['wp_http_responses'] = array( woodoo_http( 401, '{"error":"bad_signature","message":"no match"}' ) );
		list( $ok, $message ) = Woodoo_Sender::test();
		$this->assertFalse( $ok );
		$this->assertStringContainsString( 'secret', $message );
		$this->assertStringNotContainsString( 'whsec_test', $message );
		$GLOBALS['wp_http_responses'] = array( new WP_Error( 'x', 'Could not resolve host' ) );
		$this->assertStringContainsString( 'Could not resolve host', Woodoo_Sender::test()[1] );
	}
}
