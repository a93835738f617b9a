<?php
use PHPUnit\Framework\TestCase;

final class SenderTest extends TestCase {

	const T0     = 1795441954;
	const EVENTS = 'whsec_events_0123456789abcdef0123456789abcdef';
	const STOCK  = 'whsec_stock_0123456789abcdef0123456789abcdef';

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::URL_OPTION, 'https://woodoo.example.com/webhooks/woocommerce' );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
	}

	private function queued_event( $event = 'order.created', $order_id = 41, $now = self::T0 ) {
		$order   = isset( $GLOBALS['wc_orders'][ $order_id ] ) ? $GLOBALS['wc_orders'][ $order_id ] : woodoo_fixture_order( array( 'id' => $order_id ) );
		$payload = Woodoo_Payload::event( Woodoo_Payload::uuid(), $event, Woodoo_Payload::order( $order ), null, home_url() );
		return Woodoo_Queue::store( $payload, $now );
	}

	/** Pending actions of one event. */
	private function pending( $event_id ) {
		return array_values(
			array_filter(
				$GLOBALS['as_pending'],
				function ( $pending ) use ( $event_id ) {
					return array( Woodoo_Queue::HOOK, array( $event_id ), 'woodoo' ) === $pending;
				}
			)
		);
	}

	/** Makes the server able to finish the response early; returns a counter of the calls. */
	private function finisher() {
		$calls = new ArrayObject();
		add_filter(
			'woodoo_companion_request_finisher',
			function () use ( $calls ) {
				return function () use ( $calls ) {
					$calls[] = count( $GLOBALS['wp_http_requests'] ); // Requests made before the response was finished.
				};
			}
		);
		return $calls;
	}

	public function test_backoff_doubles_from_one_minute_and_caps_at_five_minutes() {
		$sequence = array_map( array( 'Woodoo_Sender', 'backoff' ), range( 1, 8 ) );
		$this->assertSame( array( 60, 120, 240, 300, 300, 300, 300, 300 ), $sequence );
		$this->assertSame( 300, Woodoo_Sender::backoff( 500 ) );
		$this->assertSame( 60, Woodoo_Sender::backoff( 0 ) );
	}

	public function test_a_daemon_back_after_three_hours_gets_the_event_within_five_minutes() {
		// Issue 9: down three hours, the next retry used to be over an hour away.
		$id  = $this->queued_event();
		$now = self::T0 + 60;
		while ( $now < self::T0 + 3 * 3600 ) {
			$GLOBALS['wp_http_responses'] = array( new WP_Error( 'http_request_failed', 'cURL error 7: Connection refused' ) );
			$this->assertSame( 'retry', Woodoo_Sender::deliver( $id, $now ) );
			$now = Woodoo_Queue::find( $id )['next_attempt'];
		}
		$this->assertLessThanOrEqual( self::T0 + 3 * 3600 + 300, $now, 'the daemon back at 3 h is reached within 5 min' );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $id, $now ) );
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
		$header = $request['args']['headers']['X-Woodoo-Signature'];
		$this->assertTrue( Woodoo_Signer::verify( $request['args']['body'], $header, array( self::EVENTS ), Woodoo_Signer::SHOP_EVENTS, self::T0 + 60 ), 'signed with the events secret for the daemon\'s route' );
		$this->assertFalse( Woodoo_Signer::verify( $request['args']['body'], $header, array( self::STOCK ), Woodoo_Signer::SHOP_EVENTS, self::T0 + 60 ) );
		$this->assertFalse( Woodoo_Signer::verify( $request['args']['body'], $header, array( self::EVENTS ), Woodoo_Signer::PLUGIN_STOCK, self::T0 + 60 ) );
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
		for ( $i = 0; $i < 3000; $i++ ) {
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
		$this->assertGreaterThan( self::T0 + 7 * 86400 - 300, $row['gave_up_at'] );
		$this->assertGreaterThan( 2000, $row['attempts'], 'every 5 minutes for 7 days' );
		$this->assertCount( 2, $GLOBALS['wc_orders'][41]->notes, 'one note on the first failure, one on giving up' );
		$this->assertStringContainsString( 'gave up', end( $GLOBALS['wc_orders'][41]->notes ) );
		$this->assertStringContainsString( 'HTTP 503', end( $GLOBALS['wc_orders'][41]->notes ) );
	}

	public function test_not_configured_keeps_the_event() {
		$id = $this->queued_event();
		delete_option( Woodoo_Settings::EVENTS_SECRET );
		$this->assertSame( 'retry', Woodoo_Sender::deliver( $id, self::T0 + 60 ) );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
		$this->assertStringContainsString( 'events secret is not set', Woodoo_Queue::find( $id )['last_error'] );
		$this->assertFalse( Woodoo_Sender::send_nonblocking( $id ) );
	}

	public function test_a_short_or_shared_events_secret_sends_nothing() {
		$id = $this->queued_event();
		update_option( Woodoo_Settings::EVENTS_SECRET, 'whsec_short' );
		$this->assertSame( 'retry', Woodoo_Sender::deliver( $id, self::T0 + 60 ) );
		$this->assertStringContainsString( 'shorter than 32', Woodoo_Queue::find( $id )['last_error'] );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::STOCK );
		$this->assertSame( 'retry', Woodoo_Sender::deliver( $id, self::T0 + 120 ) );
		$this->assertStringContainsString( 'the same', Woodoo_Queue::find( $id )['last_error'] );
		$this->assertFalse( Woodoo_Sender::send_nonblocking( $id ) );
		$this->assertFalse( Woodoo_Sender::test()[0] );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
	}

	public function test_deleted_order_events_make_no_notes() {
		$order   = woodoo_fixture_order();
		$payload = Woodoo_Payload::event( 'd-1', 'order.deleted', Woodoo_Payload::order( $order ), null, home_url() );
		Woodoo_Queue::store( $payload, self::T0 );
		Woodoo_Sender::deliver( 'd-1', self::T0 + 60 );
		$this->assertSame( array(), $order->notes );
	}

	public function test_test_button_says_the_status_and_our_words_never_the_body() {
		$leak    = 'LEAK-' . str_repeat( 'x', 20 );
		$answers = array(
			array( woodoo_http( 200, '{"status":"ok","message":"' . $leak . '"}' ), true, '200: the daemon accepted the signature' ),
			array( woodoo_http( 401, '{"error":"bad_signature","message":"' . $leak . '"}' ), false, '401: the daemon refused the signature: the events secret differs from webhooks.shop_secrets, or the clocks differ' ),
			array( woodoo_http( 401, '{"error":"stale_timestamp","message":"' . $leak . '"}' ), false, '401: the daemon refused the signature\'s time' ),
			array( woodoo_http( 401, '{"error":"no_secret","message":"' . $leak . '"}' ), false, '401: the daemon has no webhooks.shop_secrets' ),
			array( woodoo_http( 503, '{"error":"orders_disabled","message":"' . $leak . '"}' ), false, '503: the signature was accepted, but order events are not enabled' ),
			array( woodoo_http( 503, '<html>' . $leak . '</html>' ), false, '503: the daemon, or a proxy in front of it, failed' ),
			array( woodoo_http( 404, $leak ), false, '404: nothing takes order events at this URL' ),
			array( woodoo_http( 400, '{"error":"schema","message":"' . $leak . '","field":"event"}' ), false, '400: the daemon refused the test event itself' ),
			array( woodoo_http( 302, $leak ), false, '302: the daemon URL redirects' ),
			array( woodoo_http( 429, $leak ), false, '429: the daemon is busy' ),
			array( woodoo_http( 418, $leak ), false, '418: an answer the daemon does not give' ),
			array( woodoo_http( 401, '{"error":"' . $leak . '"}' ), false, '401: the daemon refused the signature: the events secret differs' ),
		);
		foreach ( $answers as $answer ) {
			$GLOBALS['wp_http_responses'] = array( $answer[0] );
			list( $ok, $message )         = Woodoo_Sender::test();
			$this->assertSame( $answer[1], $ok, $message );
			$this->assertStringStartsWith( $answer[2], $message );
			$this->assertStringNotContainsString( 'LEAK', $message );
			$this->assertStringNotContainsString( self::EVENTS, $message );
		}
		$request = end( $GLOBALS['wp_http_requests'] );
		$this->assertSame( 'test', json_decode( $request['args']['body'], true )['event'] );
		$GLOBALS['wp_http_responses'] = array( new WP_Error( 'x', 'cURL error 6: Could not resolve host' ) );
		$this->assertStringContainsString( 'Could not resolve host', Woodoo_Sender::test()[1] );
		delete_option( Woodoo_Settings::URL_OPTION );
		$this->assertSame( array( false, 'Set the daemon URL first.' ), Woodoo_Sender::test() );
	}

	public function test_an_action_made_stale_by_a_newer_schedule_sends_nothing() {
		$id = $this->queued_event();
		Woodoo_Queue::update( $id, array( 'next_attempt' => self::T0 + 600 ) ); // Tried and rescheduled by a flush.
		$this->assertSame( 'skip', Woodoo_Sender::deliver( $id, self::T0 + 60 ) );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
		$this->assertSame( 0, Woodoo_Queue::find( $id )['attempts'] );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $id, self::T0 + 600 ), 'the action at the new time sends' );
	}

	public function test_the_send_after_the_response_reads_the_answer_and_the_action_then_sends_nothing() {
		$calls = $this->finisher();
		woodoo_fixture_order();
		Woodoo_Hooks::created( 41 );
		$ids = Woodoo_Queue::flush();
		$this->assertSame( array(), $GLOBALS['wp_http_requests'], 'nothing sent while the visitor waits' );
		$this->assertTrue( has_action_callback( 'shutdown', array( 'Woodoo_Sender', 'send_after_response' ) ) );
		$late = array_filter(
			$GLOBALS['wp_actions']['shutdown'],
			function ( $entry ) {
				return array( 'Woodoo_Sender', 'send_after_response' ) === $entry[0];
			}
		);
		$this->assertGreaterThan( 20, array_values( $late )[0][1], 'after WooCommerce saved its session' );
		$outcomes = Woodoo_Sender::send_after_response();
		$this->assertSame( array( $ids[0] => 'delivered' ), $outcomes );
		$this->assertSame( array( 0 ), $calls->getArrayCopy(), 'the response was finished first, before any request' );
		$request = $GLOBALS['wp_http_requests'][0];
		$this->assertTrue( $request['args']['blocking'] );
		$this->assertLessThanOrEqual( 3, $request['args']['timeout'] );
		$this->assertTrue( Woodoo_Signer::verify( $request['args']['body'], $request['args']['headers']['X-Woodoo-Signature'], array( self::EVENTS ), Woodoo_Signer::SHOP_EVENTS ) );
		$row = Woodoo_Queue::find( $ids[0] );
		$this->assertNotNull( $row['delivered_at'] );
		$this->assertSame( 1, $row['attempts'] );
		$this->assertStringContainsString( 'order.created delivered', $GLOBALS['wc_orders'][41]->notes[0] );
		$this->assertSame( 0, Woodoo_Queue::waiting_count() );
		// The scheduled copy a minute later: nothing sent.
		$this->assertSame( 'skip', Woodoo_Sender::deliver( $ids[0], time() + 60 ) );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'], 'each event reached the daemon once' );
		$this->assertSame( array(), Woodoo_Sender::send_after_response(), 'runs once per request' );
	}

	public function test_a_failed_send_after_the_response_keeps_one_action_and_leaves_the_rest_to_theirs() {
		$this->finisher();
		woodoo_fixture_order();
		woodoo_fixture_order( array( 'id' => 42 ) );
		Woodoo_Hooks::created( 41 );
		Woodoo_Hooks::created( 42 );
		$ids                          = Woodoo_Queue::flush();
		$GLOBALS['wp_http_responses'] = array( new WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out after 3001 milliseconds' ) );
		$before                       = time();
		$this->assertSame( array( $ids[0] => 'retry' ), Woodoo_Sender::send_after_response() );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'], 'the daemon cannot take events: the second waits for its action' );
		$row = Woodoo_Queue::find( $ids[0] );
		$this->assertSame( 1, $row['attempts'] );
		$this->assertStringContainsString( 'timed out', $row['last_error'] );
		$this->assertGreaterThanOrEqual( $before + 60, $row['next_attempt'] );
		$this->assertCount( 1, $this->pending( $ids[0] ), 'the fresh action was replaced, not doubled' );
		$this->assertSame( (int) $row['next_attempt'], end( $GLOBALS['as_actions'] )['timestamp'] );
		$this->assertSame( 0, Woodoo_Queue::find( $ids[1] )['attempts'] );
		$this->assertCount( 1, $this->pending( $ids[1] ) );
		$this->assertSame( 2, Woodoo_Queue::waiting_count() );
	}

	public function test_the_send_after_the_response_has_a_time_budget() {
		$this->finisher();
		foreach ( array( 41, 42, 43 ) as $order_id ) {
			woodoo_fixture_order( array( 'id' => $order_id ) );
			Woodoo_Hooks::created( $order_id );
		}
		$ids   = Woodoo_Queue::flush();
		$ticks = array( 0.0, 0.0, 4.0, 11.0 ); // Start; before each send.
		$clock = function () use ( &$ticks ) {
			return count( $ticks ) > 1 ? array_shift( $ticks ) : $ticks[0];
		};
		$outcomes = Woodoo_Sender::send_after_response( $clock );
		$this->assertSame( array( $ids[0] => 'delivered', $ids[1] => 'delivered', $ids[2] => 'nonblocking' ), $outcomes );
		$this->assertSame( array( true, true, false ), array_column( array_column( $GLOBALS['wp_http_requests'], 'args' ), 'blocking' ) );
		$this->assertSame( 1, Woodoo_Queue::waiting_count(), 'sent without reading the answer: its action delivers it' );
	}

	public function test_without_a_way_to_finish_the_response_events_are_sent_without_blocking() {
		add_filter( 'woodoo_companion_request_finisher', '__return_null' );
		woodoo_fixture_order();
		Woodoo_Hooks::created( 41 );
		$ids = Woodoo_Queue::flush();
		$this->assertFalse( has_action_callback( 'shutdown', array( 'Woodoo_Sender', 'send_after_response' ) ) );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'] );
		$this->assertFalse( $GLOBALS['wp_http_requests'][0]['args']['blocking'] );
		$this->assertSame( 1, Woodoo_Queue::waiting_count(), 'not acknowledged: still waiting' );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $ids[0], time() + 60 ) );
	}

	public function test_the_send_after_the_response_sends_nothing_while_not_configured() {
		$this->finisher();
		delete_option( Woodoo_Settings::EVENTS_SECRET );
		woodoo_fixture_order();
		Woodoo_Hooks::created( 41 );
		$ids = Woodoo_Queue::flush();
		$this->assertSame( array(), Woodoo_Sender::send_after_response() );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
		$this->assertSame( 0, Woodoo_Queue::find( $ids[0] )['attempts'], 'the action records why' );
	}

	public function test_a_delivered_event_supersedes_the_older_waiting_events_of_its_order() {
		$created = $this->queued_event( 'order.created', 41, self::T0 );
		$paid    = $this->queued_event( 'order.paid', 41, self::T0 );
		$other   = $this->queued_event( 'order.created', 42, self::T0 + 1 );
		$changed = $this->queued_event( 'order.status_changed', 41, self::T0 + 2 );
		$later   = $this->queued_event( 'order.cancelled', 41, self::T0 + 3 );
		$this->assertSame( 5, Woodoo_Queue::waiting_count() );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $changed, self::T0 + 62 ) );
		foreach ( array( $created, $paid ) as $id ) {
			$row = Woodoo_Queue::find( $id );
			$this->assertSame( self::T0 + 62, $row['superseded_at'] );
			$this->assertNull( $row['delivered_at'], 'superseded, not delivered: the daemon never saw it' );
			$this->assertNull( $row['next_attempt'] );
			$this->assertSame( 'skip', Woodoo_Sender::deliver( $id, self::T0 + 120 ), 'never sent again' );
		}
		$this->assertNull( Woodoo_Queue::find( $other )['superseded_at'], 'another order' );
		$this->assertNull( Woodoo_Queue::find( $later )['superseded_at'], 'a newer event still carries news' );
		$this->assertSame( 2, Woodoo_Queue::waiting_count() );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'] );
		// Delivering an older event supersedes nothing newer.
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $other, self::T0 + 61 ) );
		$this->assertSame( 1, Woodoo_Queue::waiting_count() );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $later, self::T0 + 63 ) );
		$this->assertSame( 0, Woodoo_Queue::waiting_count() );
	}

	public function test_refused_and_given_up_events_are_not_superseded() {
		$refused = $this->queued_event( 'order.created', 41, self::T0 );
		$GLOBALS['wp_http_responses'] = array( woodoo_http( 400, '{"error":"schema"}' ) );
		$this->assertSame( 'give_up', Woodoo_Sender::deliver( $refused, self::T0 + 60 ) );
		$newer = $this->queued_event( 'order.paid', 41, self::T0 + 70 );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $newer, self::T0 + 130 ) );
		$row = Woodoo_Queue::find( $refused );
		$this->assertNull( $row['superseded_at'], 'its history stays: refused' );
		$this->assertSame( self::T0 + 60, $row['gave_up_at'] );
	}
}
