<?php
use PHPUnit\Framework\TestCase;

/**
 * POST /wp-json/woodoo/v1/flush: the daemon asks for the waiting events now (issue 9).
 */
final class FlushRouteTest extends TestCase {

	const T      = 1795441954;
	const STOCK  = 'whsec_stock_0123456789abcdef0123456789abcdef';
	const EVENTS = 'whsec_events_0123456789abcdef0123456789abcdef';
	const URL    = 'https://woodoo.example.com/webhooks/woocommerce';

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::URL_OPTION, self::URL );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
	}

	/** Stores an event of an order (made if needed) at $at. */
	private function event( $order_id, $at, $event = 'order.created' ) {
		$order   = isset( $GLOBALS['wc_orders'][ $order_id ] ) ? $GLOBALS['wc_orders'][ $order_id ] : woodoo_fixture_order( array( 'id' => $order_id ) );
		$payload = Woodoo_Payload::event( Woodoo_Payload::uuid(), $event, Woodoo_Payload::order( $order ), null, home_url() );
		return Woodoo_Queue::store( $payload, $at );
	}

	private function sign( $body, $timestamp = self::T, $secret = self::STOCK, $route = Woodoo_Signer::PLUGIN_FLUSH ) {
		return Woodoo_Signer::sign( $body, $secret, $route, $timestamp );
	}

	/** A signed flush at $now (signed then too). */
	private function flush( $body = '{"max_events":100}', $now = self::T, $clock = null ) {
		return Woodoo_Flush_Route::handle( $body, $this->sign( $body, $now ), $now, $clock );
	}

	/** Event ids of the requests sent to the daemon, in order. */
	private function sent() {
		return array_map(
			function ( $request ) {
				return json_decode( $request['args']['body'], true )['event_id'];
			},
			$GLOBALS['wp_http_requests']
		);
	}

	/** Everything a flush could change. */
	private function trace() {
		$notes = array();
		foreach ( $GLOBALS['wc_orders'] as $id => $order ) {
			$notes[ $id ] = $order->notes;
		}
		return array(
			'events'   => $GLOBALS['wpdb']->rows( 'wp_woodoo_events' ),
			'replay'   => $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ),
			'requests' => $GLOBALS['wp_http_requests'],
			'actions'  => $GLOBALS['as_actions'],
			'pending'  => $GLOBALS['as_pending'],
			'options'  => $GLOBALS['wp_options'],
			'notes'    => $notes,
		);
	}

	public function test_a_signed_flush_sends_exactly_the_waiting_events_once_oldest_first() {
		$first     = $this->event( 41, self::T - 3 * 3600 );
		$second    = $this->event( 42, self::T - 2 * 3600 );
		$delivered = $this->event( 43, self::T - 3600 );
		$refused   = $this->event( 44, self::T - 3600 );
		Woodoo_Queue::update( $delivered, array( 'delivered_at' => self::T - 3500, 'next_attempt' => null ) );
		Woodoo_Queue::update( $refused, array( 'gave_up_at' => self::T - 3500, 'next_attempt' => null ) );
		Woodoo_Queue::update( $first, array( 'attempts' => 9, 'next_attempt' => self::T + 240, 'last_error' => 'no answer from the daemon' ) );
		$actions = count( $GLOBALS['as_actions'] );

		list( $status, $data ) = $this->flush();
		$this->assertSame( 200, $status );
		$this->assertSame( array( 'sent' => 2, 'delivered' => 2, 'failed' => 0, 'waiting' => 0 ), $data );
		$this->assertSame( array( $first, $second ), $this->sent(), 'the waiting ones, oldest first, once each' );
		foreach ( $GLOBALS['wp_http_requests'] as $request ) {
			$this->assertSame( self::URL, $request['url'] );
			$this->assertTrue( $request['args']['blocking'] );
			$this->assertLessThanOrEqual( 5, $request['args']['timeout'] );
			$this->assertTrue( Woodoo_Signer::verify( $request['args']['body'], $request['args']['headers']['X-Woodoo-Signature'], array( self::EVENTS ), Woodoo_Signer::SHOP_EVENTS, self::T ), 'an event as the actions send it' );
		}
		// Recorded as the scheduled delivery records it.
		$row = Woodoo_Queue::find( $first );
		$this->assertSame( self::T, $row['delivered_at'] );
		$this->assertSame( 10, $row['attempts'] );
		$this->assertNull( $row['last_error'] );
		$this->assertStringContainsString( 'order.created delivered to the daemon', $GLOBALS['wc_orders'][41]->notes[0] );
		$this->assertCount( $actions, $GLOBALS['as_actions'], 'nothing to schedule' );
		// Their actions come due later and send nothing.
		$this->assertSame( 'skip', Woodoo_Sender::deliver( $first, self::T + 240 ) );
		$this->assertSame( 'skip', Woodoo_Sender::deliver( $second, self::T + 60 ) );
		$this->assertCount( 2, $GLOBALS['wp_http_requests'] );
		$this->assertCount( 1, $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ), 'the request is remembered; the lock is gone' );
	}

	public function test_flush_is_idempotent_a_second_call_sends_only_what_still_waits() {
		$a = $this->event( 41, self::T - 300 );
		$b = $this->event( 42, self::T - 200 );
		$c = $this->event( 43, self::T - 100 );
		$this->assertSame( array( 200, array( 'sent' => 2, 'delivered' => 2, 'failed' => 0, 'waiting' => 1 ) ), $this->flush( '{"max_events":2}' ) );
		$this->assertSame( array( $a, $b ), $this->sent() );
		$this->assertSame( array( 200, array( 'sent' => 1, 'delivered' => 1, 'failed' => 0, 'waiting' => 0 ) ), $this->flush( '{"max_events":2}', self::T + 1 ) );
		$this->assertSame( array( $a, $b, $c ), $this->sent() );
		$before = $GLOBALS['wpdb']->rows( 'wp_woodoo_events' );
		$this->assertSame( array( 200, array( 'sent' => 0, 'delivered' => 0, 'failed' => 0, 'waiting' => 0 ) ), $this->flush( '{"max_events":2}', self::T + 2 ) );
		$this->assertSame( array( $a, $b, $c ), $this->sent(), 'nothing sent twice' );
		$this->assertSame( $before, $GLOBALS['wpdb']->rows( 'wp_woodoo_events' ) );
	}

	public function test_max_events_defaults_to_100_and_bounds_are_inclusive() {
		for ( $i = 0; $i < 101; $i++ ) {
			$this->event( 41, self::T - 1000 + $i );
		}
		list( $status, $data ) = $this->flush( '{}' );
		$this->assertSame( array( 200, 100, 1 ), array( $status, $data['sent'], $data['waiting'] ) );
		list( , $data ) = $this->flush( '{"max_events":1}', self::T + 1 );
		$this->assertSame( array( 1, 0 ), array( $data['sent'], $data['waiting'] ) );
		$this->assertSame( 200, $this->flush( '{"max_events":500}', self::T + 2 )[0] );
		$this->assertSame( 200, $this->flush( " {\n\"max_events\" : 7 }\n", self::T + 3 )[0], 'whitespace is JSON' );
		$this->assertSame( 200, $this->flush( '{"max_events":7,"request_id":"' . str_repeat( 'a1', 16 ) . '"}', self::T + 4 )[0], 'a request id' );
	}

	public function test_replayed_flush_is_409_and_sends_nothing() {
		$this->event( 41, self::T - 60 );
		$body   = '{"max_events":100}';
		$header = $this->sign( $body );
		$this->assertSame( 200, Woodoo_Flush_Route::handle( $body, $header, self::T )[0] );
		$late = $this->event( 42, self::T );
		foreach ( array( self::T, self::T + 299, self::T + 300 ) as $now ) {
			$before                = $this->trace();
			list( $status, $data ) = Woodoo_Flush_Route::handle( $body, $header, $now );
			$this->assertSame( array( 409, 'replayed' ), array( $status, $data['error'] ) );
			$this->assertSame( $before, $this->trace(), 'nothing sent, nothing changed' );
		}
		$this->assertSame( 0, Woodoo_Queue::find( $late )['attempts'] );
		$this->assertSame( 401, Woodoo_Flush_Route::handle( $body, $header, self::T + 301 )[0], 'stale by then' );
	}

	public function test_unsigned_wrongly_signed_or_stale_flushes_are_401_and_send_nothing() {
		$this->event( 41, self::T - 60 );
		$body    = '{"max_events":100}';
		$headers = array(
			'missing'                => null,
			'empty'                  => '',
			'garbage'                => 'EVIL',
			'the stock route'        => $this->sign( $body, self::T, self::STOCK, Woodoo_Signer::PLUGIN_STOCK ),
			'the events route'       => $this->sign( $body, self::T, self::STOCK, Woodoo_Signer::SHOP_EVENTS ),
			'the URL, not the route' => $this->sign( $body, self::T, self::STOCK, 'POST /wp-json/woodoo/v1/flush' ),
			'the events secret'      => $this->sign( $body, self::T, self::EVENTS ),
			'another secret'         => $this->sign( $body, self::T, 'whsec_EVIL_0123456789abcdef0123456789abcdef' ),
			'another body'           => $this->sign( '{"max_events":500}' ),
			'signed 301 s ago'       => $this->sign( $body, self::T - 301 ),
			'signed 301 s ahead'     => $this->sign( $body, self::T + 301 ),
			'v1'                     => 't=' . self::T . ',v1=' . hash_hmac( 'sha256', self::T . '.' . $body, self::STOCK ),
		);
		foreach ( $headers as $name => $header ) {
			$before                = $this->trace();
			list( $status, $data ) = Woodoo_Flush_Route::handle( $body, $header, self::T );
			$this->assertSame( 401, $status, $name );
			$this->assertContains( $data['error'], array( 'missing_signature', 'bad_signature', 'stale_timestamp' ), $name );
			$this->assertSame( $before, $this->trace(), $name . ': nothing sent, nothing changed' );
		}
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
	}

	public function test_malformed_bodies_are_400_and_send_nothing() {
		$this->event( 41, self::T - 60 );
		$cases = array(
			''                                     => '(body)',
			'null'                                 => '(body)',
			'[]'                                   => '(body)',
			'[{"max_events":5}]'                   => '(body)',
			'"max_events"'                         => '(body)',
			' 5'                                   => '(body)', // Not '5': PHP would make that key an int.
			'{"max_events":0}'                     => 'max_events',
			'{"max_events":501}'                   => 'max_events',
			'{"max_events":-1}'                    => 'max_events',
			'{"max_events":1.5}'                   => 'max_events',
			'{"max_events":5.0}'                   => 'max_events',
			'{"max_events":1e2}'                   => 'max_events',
			'{"max_events":"5"}'                   => 'max_events',
			'{"max_events":null}'                  => 'max_events',
			'{"max_events":true}'                  => 'max_events',
			'{"max_events":99999999999999999999}'  => 'max_events',
			'{"max_events":[5]}'                   => '(body)',
			'{"max_events":{"n":5}}'               => '(body)',
			'{"max_events":5,"force":true}'        => '(body)',
			'{"request_id":"ABCDEF0123456789ABCDEF0123456789"}' => 'request_id',
			'{"request_id":"' . str_repeat( 'a', 31 ) . '"}' => 'request_id',
			'{"request_id":' . str_repeat( '1', 32 ) . '}' => 'request_id',
			'{"request_id":null}'                  => 'request_id',
			'{"EVIL":1}'                           => '(body)',
			'{"":1}'                               => '(body)',
			'{"max_events":5,"max_events":600}'    => 'max_events',
			'{"max_events":5'                      => '(body)',
			"\xef\xbb\xbf{}"                       => '(body)',
			'{"x":"' . "\xff" . '"}'               => '(body)',
		);
		foreach ( $cases as $body => $field ) {
			$before                = $this->trace();
			list( $status, $data ) = $this->flush( $body );
			$this->assertSame( array( 400, 'schema', $field ), array( $status, $data['error'], isset( $data['field'] ) ? $data['field'] : $data ), var_export( $body, true ) );
			$this->assertStringNotContainsString( 'EVIL', json_encode( $data ) );
			$this->assertSame( $before, $this->trace(), var_export( $body, true ) . ': nothing sent, nothing changed' );
		}
		list( $status, $data ) = $this->flush( '{"max_events":1,"pad":"' . str_repeat( 'x', 1024 ) . '"}' );
		$this->assertSame( array( 400, 'too_large' ), array( $status, $data['error'] ) );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
	}

	public function test_not_configured_is_503_and_sends_nothing() {
		$this->event( 41, self::T - 60 );
		delete_option( Woodoo_Settings::STOCK_SECRET );
		list( $status, $data ) = Woodoo_Flush_Route::handle( '{}', 't=1,v2=' . str_repeat( '0', 64 ), self::T );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
		$this->assertStringContainsString( 'stock secret is not set', $data['message'] );
		update_option( Woodoo_Settings::STOCK_SECRET, self::EVENTS );
		$this->assertSame( 503, $this->flush( '{}' )[0], 'a stock secret equal to the events secret is not used' );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
		// Signed, but nothing to send with: said after the signature only.
		delete_option( Woodoo_Settings::URL_OPTION );
		list( $status, $data ) = $this->flush( '{}' );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
		$this->assertStringContainsString( 'daemon URL', $data['message'] );
		$this->assertSame( 401, Woodoo_Flush_Route::handle( '{}', 'EVIL', self::T )[0] );
		update_option( Woodoo_Settings::URL_OPTION, self::URL );
		update_option( Woodoo_Settings::EVENTS_SECRET, 'short' );
		list( $status, $data ) = $this->flush( '{}', self::T + 1 );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
		$this->assertStringContainsString( 'events secret', $data['message'] );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
		$this->assertSame( array(), $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ), 'not remembered: the daemon may send it again' );
	}

	public function test_one_flush_at_a_time_a_concurrent_call_is_409_busy_and_changes_nothing() {
		$a = $this->event( 41, self::T - 60 );
		$b = $this->event( 42, self::T - 30 );
		$concurrent                   = null;
		$trace                        = null;
		$test                         = $this;
		$GLOBALS['wp_http_responses'] = array(
			// While the first flush sends its first event, the daemon (restarted) calls again.
			function () use ( &$concurrent, &$trace, $test ) {
				$body       = '{"max_events":100}';
				$before     = $test->trace_for();
				$concurrent = Woodoo_Flush_Route::handle( $body, Woodoo_Signer::sign( $body, FlushRouteTest::STOCK, Woodoo_Signer::PLUGIN_FLUSH, FlushRouteTest::T + 1 ), FlushRouteTest::T + 1 );
				$trace      = array( $before, $test->trace_for() );
				return woodoo_http( 202, '{"status":"queued"}' );
			},
		);
		list( $status, $data ) = $this->flush();
		$this->assertSame( array( 200, array( 'sent' => 2, 'delivered' => 2, 'failed' => 0, 'waiting' => 0 ) ), array( $status, $data ) );
		$this->assertSame( 409, $concurrent[0] );
		$this->assertSame( 'busy', $concurrent[1]['error'] );
		$this->assertStringContainsString( 'another flush is running', $concurrent[1]['message'] );
		$this->assertSame( $trace[0], $trace[1], 'the concurrent call sent nothing and changed nothing' );
		$this->assertSame( array( $a, $b ), $this->sent(), 'each event once' );
		// The lock is released with the answer: the next call runs.
		$this->assertCount( 1, $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ), 'only the accepted request is remembered' );
		$this->assertSame( 200, $this->flush( '{}', self::T + 2 )[0] );
	}

	/** trace() for a closure (it is private). */
	public function trace_for() {
		return $this->trace();
	}

	public function test_a_lock_left_by_a_dead_worker_expires() {
		$this->event( 41, self::T - 60 );
		Woodoo_Replay::lock( Woodoo_Flush_Route::LOCK, self::T - 59, Woodoo_Flush_Route::LOCK_TTL );
		$before                = $this->trace();
		list( $status, $data ) = $this->flush();
		$this->assertSame( array( 409, 'busy' ), array( $status, $data['error'] ) );
		$this->assertSame( $before, $this->trace(), 'nothing sent, not even remembered' );
		list( $status, $data ) = $this->flush( '{"max_events":100}', self::T + 2 );
		$this->assertSame( array( 200, 1 ), array( $status, $data['sent'] ), 'its time to live is over' );
		$this->assertLessThan( Woodoo_Flush_Route::LOCK_TTL, Woodoo_Flush_Route::BUDGET + Woodoo_Flush_Route::SEND_TIMEOUT + 10, 'a live flush never outlives its lock' );
	}

	public function test_a_daemon_that_cannot_take_events_stops_the_flush_and_the_event_keeps_one_action() {
		$a = $this->event( 41, self::T - 600 );
		$b = $this->event( 42, self::T - 300 );
		$GLOBALS['wp_http_responses'] = array( woodoo_http( 503, '{"error":"orders_disabled"}' ) );
		list( $status, $data )        = $this->flush();
		$this->assertSame( array( 200, array( 'sent' => 1, 'delivered' => 0, 'failed' => 1, 'waiting' => 2 ) ), array( $status, $data ) );
		$this->assertSame( array( $a ), $this->sent(), 'the rest keep their schedule' );
		$row = Woodoo_Queue::find( $a );
		$this->assertSame( 1, $row['attempts'] );
		$this->assertSame( self::T + 60, $row['next_attempt'] );
		$this->assertStringContainsString( 'orders_disabled', $row['last_error'] );
		$pending = array_values(
			array_filter(
				$GLOBALS['as_pending'],
				function ( $p ) use ( $a ) {
					return array( $a ) === $p[1];
				}
			)
		);
		$this->assertCount( 1, $pending, 'its action was replaced, not doubled' );
		$this->assertSame( self::T + 60, end( $GLOBALS['as_actions'] )['timestamp'] );
		$this->assertSame( 0, Woodoo_Queue::find( $b )['attempts'] );
	}

	public function test_an_event_the_daemon_refuses_does_not_stop_the_flush() {
		$a = $this->event( 41, self::T - 600 );
		$b = $this->event( 42, self::T - 300 );
		$GLOBALS['wp_http_responses'] = array( woodoo_http( 400, '{"error":"schema","field":"order.lines.0.sku"}' ) );
		$this->assertSame( array( 200, array( 'sent' => 2, 'delivered' => 1, 'failed' => 1, 'waiting' => 0 ) ), $this->flush() );
		$this->assertSame( self::T, Woodoo_Queue::find( $a )['gave_up_at'] );
		$this->assertSame( self::T, Woodoo_Queue::find( $b )['delivered_at'] );
	}

	public function test_no_send_starts_after_the_time_budget() {
		foreach ( array( 41, 42, 43, 44 ) as $i => $order_id ) {
			$this->event( $order_id, self::T - 100 + $i );
		}
		$ticks = array( 100.0, 100.0, 108.0, 119.9, 120.0 ); // Start, then before each send.
		$clock = function () use ( &$ticks ) {
			return count( $ticks ) > 1 ? array_shift( $ticks ) : $ticks[0];
		};
		list( $status, $data ) = $this->flush( '{"max_events":100}', self::T, $clock );
		$this->assertSame( array( 200, array( 'sent' => 3, 'delivered' => 3, 'failed' => 0, 'waiting' => 1 ) ), array( $status, $data ) );
		$this->assertSame( 20, Woodoo_Flush_Route::budget( 0 ) );
		$this->assertSame( 20, Woodoo_Flush_Route::budget( 30 ), 'PHP\'s default: 20 s + a 5 s send + 5 s to answer' );
		$this->assertSame( 5, Woodoo_Flush_Route::budget( 15 ), 'well inside a short max_execution_time' );
		$this->assertSame( 1, Woodoo_Flush_Route::budget( 5 ) );
	}

	public function test_an_event_superseded_or_delivered_during_the_flush_is_not_sent() {
		$first = $this->event( 42, self::T - 600 );
		$old   = $this->event( 41, self::T - 500 );
		$new   = $this->event( 41, self::T - 400, 'order.cancelled' );
		$this->assertSame( 3, Woodoo_Queue::waiting_count() );
		// While the flush sends the first, order 41's newer event is delivered by its own action.
		$GLOBALS['wp_http_responses'] = array(
			function () use ( $new ) {
				Woodoo_Sender::deliver( $new, FlushRouteTest::T );
				return woodoo_http( 202, '{"status":"queued"}' );
			},
		);
		list( , $data ) = $this->flush();
		$this->assertSame( array( 'sent' => 1, 'delivered' => 1, 'failed' => 0, 'waiting' => 0 ), $data );
		$this->assertSame( array( $first, $new ), $this->sent(), 'the older event of order 41 was superseded, the newer delivered: neither sent by the flush' );
		$this->assertSame( self::T, Woodoo_Queue::find( $old )['superseded_at'] );
		$this->assertSame( 0, Woodoo_Queue::find( $old )['attempts'] );
	}

	public function test_superseded_events_are_not_waiting_and_not_flushed() {
		$old = $this->event( 41, self::T - 600 );
		$new = $this->event( 41, self::T - 300, 'order.paid' );
		$this->assertSame( 'delivered', Woodoo_Sender::deliver( $new, self::T - 240 ) );
		$this->assertSame( 0, Woodoo_Queue::waiting_count() );
		$this->assertNotNull( Woodoo_Queue::find( $old )['superseded_at'] );
		$this->assertSame( array( 200, array( 'sent' => 0, 'delivered' => 0, 'failed' => 0, 'waiting' => 0 ) ), $this->flush() );
		$this->assertSame( array( $new ), $this->sent() );
	}

	public function test_without_a_replay_memory_nothing_is_sent() {
		$this->event( 41, self::T - 60 );
		$GLOBALS['wpdb']->replay_broken = true;
		list( $status, $data ) = $this->flush();
		$this->assertSame( array( 503, 'replay_unavailable' ), array( $status, $data['error'] ) );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
	}

	public function test_rest_adapter_and_registration() {
		$this->event( 41, time() - 60 );
		$body     = '{"max_events":10}';
		$response = Woodoo_Flush_Route::rest( new WP_REST_Request( $body, array( 'X-Woodoo-Signature' => Woodoo_Signer::sign( $body, self::STOCK, Woodoo_Signer::PLUGIN_FLUSH ) ) ) );
		$this->assertSame( 200, $response->status );
		$this->assertSame( array( 'sent' => 1, 'delivered' => 1, 'failed' => 0, 'waiting' => 0 ), $response->data );
		$this->assertSame( 'no-store', $response->headers['Cache-Control'] );
		$response = Woodoo_Flush_Route::rest( new WP_REST_Request( $body, array() ) );
		$this->assertSame( 401, $response->status );
		Woodoo_Flush_Route::register();
		$this->assertTrue( has_action_callback( 'rest_api_init', array( 'Woodoo_Flush_Route', 'register_route' ) ) );
	}

	public function test_issue_9_a_checkout_while_the_daemon_is_down_reaches_it_when_it_starts() {
		// PHP-FPM: the response can be finished before the send.
		add_filter(
			'woodoo_companion_request_finisher',
			function () {
				return function () {
				};
			}
		);
		woodoo_fixture_order();
		Woodoo_Hooks::created( 41 );
		$ids                          = Woodoo_Queue::flush();
		$GLOBALS['wp_http_responses'] = array( new WP_Error( 'http_request_failed', 'cURL error 7: Failed to connect to woodoo.example.com port 443: Connection refused' ) );
		$this->assertSame( array( $ids[0] => 'retry' ), Woodoo_Sender::send_after_response() );
		$row = Woodoo_Queue::find( $ids[0] );
		$this->assertSame( 1, Woodoo_Queue::waiting_count() );
		$this->assertStringContainsString( 'Connection refused', Woodoo_Settings::waiting_text( Woodoo_Queue::waiting_summary() ) );
		// The daemon starts 5 s later and asks for the waiting events: delivered at once.
		$started                = (int) $row['last_attempt_at'] + 5;
		list( $status, $data ) = $this->flush( '{"max_events":100}', $started );
		$this->assertSame( array( 200, array( 'sent' => 1, 'delivered' => 1, 'failed' => 0, 'waiting' => 0 ) ), array( $status, $data ) );
		$this->assertSame( $started, Woodoo_Queue::find( $ids[0] )['delivered_at'] );
		// Its retry comes due and sends nothing: two requests in all, the first refused at the
		// door, the second delivered.
		$this->assertSame( 'skip', Woodoo_Sender::deliver( $ids[0], (int) $row['next_attempt'] ) );
		$this->assertCount( 2, $GLOBALS['wp_http_requests'] );
		$this->assertSame( '0 events waiting for delivery.', Woodoo_Settings::waiting_text( Woodoo_Queue::waiting_summary() ) );
	}
}
