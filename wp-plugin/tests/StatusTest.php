<?php
use PHPUnit\Framework\TestCase;

/**
 * The daemon's status on the settings tab: a signed, short, cached request to POST /webhooks/status,
 * and a panel in which everything printed is escaped and nothing the remote wrote is shown unless
 * it is one of the checked figures.
 */
final class StatusTest extends TestCase {

	const EVENTS  = 'whsec_events_0123456789abcdef0123456789abcdef';
	const STOCK   = 'whsec_stock_0123456789abcdef0123456789abcdef';
	const URL     = 'https://woodoo.example.com/webhooks/woocommerce';
	const HOSTILE = '<script>alert("x")</script> \' & "onmouseover=alert(1) <img src=x onerror=alert(2)>';

	protected function setUp(): void {
		woodoo_test_reset();
		require_once __DIR__ . '/stubs-admin.php';
		update_option( Woodoo_Settings::URL_OPTION, self::URL );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
	}

	/** An answer as the daemon gives it (docs/order-events.md, section 4). */
	private static function answer( array $overrides = array() ) {
		return $overrides + array(
			'status'                   => 'ok',
			'version'                  => '0.1.0',
			'shop'                     => 'shop-a',
			'now'                      => 1795441954,
			'orders_enabled'           => true,
			'last_successful_poll'     => 1795441924,
			'queue_depth'              => 3,
			'dead_letters_open'        => 1,
			'events_set_aside'         => 0,
			'orders_needing_attention' => 2,
			'last_reconciliation'      => array(
				'at'          => 1795400000,
				'drift_items' => 2,
				'drift_units' => 7,
			),
			'breakers'                 => array(
				'odoo'        => array(
					'state'    => 'open',
					'since'    => 1795441834,
					'failures' => 5,
				),
				'woocommerce' => array(
					'state'    => 'closed',
					'since'    => null,
					'failures' => 0,
				),
			),
			'alerts'                   => array(
				array(
					'key'   => 'unreachable_odoo',
					'title' => 'Odoo is unreachable',
					'since' => 1795441834,
				),
			),
		);
	}

	private static function respond( $code, $body ) {
		$GLOBALS['wp_http_responses'][] = woodoo_http( $code, is_string( $body ) ? $body : json_encode( $body ) );
	}

	private static function panel() {
		return Woodoo_Settings::status_html();
	}

	public function test_the_status_url_sits_beside_the_events_url() {
		$this->assertSame( 'https://woodoo.example.com/webhooks/status', Woodoo_Status::url( self::URL ) );
		$this->assertSame( 'https://woodoo.example.com/webhooks/status', Woodoo_Status::url( self::URL . '/' ) );
		$this->assertSame( 'http://10.0.0.5:8765/sync/webhooks/status', Woodoo_Status::url( 'http://10.0.0.5:8765/sync/webhooks/woocommerce' ) );
		$this->assertSame( 'https://a.example/webhooks/status?x=1', Woodoo_Status::url( 'https://a.example/webhooks/woocommerce?x=1' ) );
		$this->assertNull( Woodoo_Status::url( 'https://woodoo.example.com' ) );
		$this->assertNull( Woodoo_Status::url( 'https://a.example/webhooks/woocommerce-old' ) );
		$this->assertNull( Woodoo_Status::url( '' ) );
		add_filter(
			'woodoo_companion_status_url',
			function ( $url, $events_url ) {
				return 'https://woodoo.example.com' === $events_url ? 'https://status.example/webhooks/status' : $url;
			},
			10,
			2
		);
		$this->assertSame( 'https://status.example/webhooks/status', Woodoo_Status::url( 'https://woodoo.example.com' ) );
	}

	public function test_the_request_is_signed_for_the_status_route_short_and_bounded() {
		self::respond( 200, self::answer() );
		$status = Woodoo_Status::get();
		$this->assertTrue( $status['reachable'] );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'] );
		list( $request ) = $GLOBALS['wp_http_requests'];
		$this->assertSame( 'https://woodoo.example.com/webhooks/status', $request['url'] );
		$args = $request['args'];
		$this->assertMatchesRegularExpression( '/\A\{"request_id":"[0-9a-f]{32}"\}\z/', $args['body'] );
		$header = $args['headers'][ Woodoo_Signer::HEADER ];
		$this->assertTrue( Woodoo_Signer::verify( $args['body'], $header, array( self::EVENTS ), Woodoo_Signer::SHOP_STATUS ) );
		foreach ( array( Woodoo_Signer::SHOP_EVENTS, Woodoo_Signer::PLUGIN_STOCK, Woodoo_Signer::PLUGIN_FLUSH ) as $other ) {
			$this->assertFalse( Woodoo_Signer::verify( $args['body'], $header, array( self::EVENTS ), $other ), $other );
		}
		$this->assertFalse( Woodoo_Signer::verify( $args['body'], $header, array( self::STOCK ), Woodoo_Signer::SHOP_STATUS ), 'not the stock secret' );
		$this->assertLessThanOrEqual( 5, $args['timeout'] );
		$this->assertSame( 0, $args['redirection'] );
		$this->assertTrue( $args['blocking'] );
		$this->assertSame( 65536, $args['limit_response_size'] );
		$this->assertStringStartsWith( 'application/json', $args['headers']['Content-Type'] );
	}

	public function test_the_answer_is_cached_for_a_minute_and_forgotten_when_settings_change() {
		self::respond( 200, self::answer() );
		Woodoo_Status::get();
		Woodoo_Status::get();
		self::panel();
		$this->assertCount( 1, $GLOBALS['wp_http_requests'], 'one request a minute, however often the page is shown' );
		$GLOBALS['wp_transients'][ Woodoo_Status::TRANSIENT ]['checked_at'] -= 61;
		Woodoo_Status::get();
		$this->assertCount( 2, $GLOBALS['wp_http_requests'], 'asked again after a minute' );
		Woodoo_Settings::update( array( Woodoo_Settings::URL_OPTION => 'https://other.example/webhooks/woocommerce' ) );
		$this->assertFalse( get_transient( Woodoo_Status::TRANSIENT ), 'a new URL forgets the old status' );
		Woodoo_Status::get();
		$this->assertSame( 'https://other.example/webhooks/status', end( $GLOBALS['wp_http_requests'] )['url'] );
	}

	public function test_a_failure_is_cached_too_so_the_page_stays_fast() {
		$GLOBALS['wp_http_responses'][] = new WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out' );
		$this->assertFalse( Woodoo_Status::get()['reachable'] );
		$this->assertFalse( Woodoo_Status::get()['reachable'] );
		$this->assertCount( 1, $GLOBALS['wp_http_requests'] );
	}

	public function test_the_panel_shows_the_figures_in_words() {
		self::respond( 200, self::answer() );
		$GLOBALS['wpdb']->tables['wp_woodoo_events'] = array(
			array( 'id' => 1, 'created_at' => 1795441954, 'last_attempt_at' => 1795442254, 'last_error' => 'no answer from the daemon: cURL error 7', 'delivered_at' => null, 'gave_up_at' => null ),
		);
		$html = self::panel();
		$text = html_entity_decode( preg_replace( '/\s+/', ' ', strip_tags( str_replace( '<', ' <', $html ) ) ), ENT_QUOTES );
		foreach ( array(
			'Daemon reachable, Woodoo 0.1.0 (checked ',
			"The daemon's shop shop-a",
			'Order events taken',
			'Last successful poll 2026-11-23 13:52',
			'Events waiting in the daemon 3',
			'Open dead letters (stock updates given up) 1',
			'Events set aside 0',
			'Orders needing attention 2',
			'Last reconciliation 2026-11-23 02:13; drift: 2 products, 7 units',
			'Odoo: calls paused since 2026-11-23 13:50 after 5 failures',
			'this shop (from the daemon): calls flow',
			'Odoo is unreachable (since 2026-11-23 13:50)',
			'This shop 1 event waiting for delivery (oldest from 2026-11-23 13:52, last error: no answer from the daemon: cURL error 7).',
			'Send test event',
		) as $expected ) {
			$this->assertStringContainsString( $expected, $text );
		}
	}

	public function test_a_daemon_that_takes_no_orders_and_has_no_alerts() {
		self::respond(
			200,
			self::answer(
				array(
					'orders_enabled'      => false,
					'alerts'              => array(),
					'last_reconciliation' => null,
					'breakers'            => array(),
				)
			)
		);
		$text = strip_tags( str_replace( '<', ' <', self::panel() ) );
		$this->assertStringContainsString( 'not enabled in the daemon (orders.enabled)', $text );
		$this->assertMatchesRegularExpression( '/Alerts\s+none/', $text );
		$this->assertMatchesRegularExpression( '/Last reconciliation\s+never/', $text );
		$this->assertStringContainsString( 'Odoo: unknown', $text, 'a breaker the answer lacks is unknown, not closed' );
	}

	public function test_a_daemon_that_names_no_shop_and_a_long_name_cut() {
		$answer = self::answer();
		unset( $answer['shop'] );
		self::respond( 200, $answer );
		$text = html_entity_decode( strip_tags( str_replace( '<', ' <', self::panel() ) ), ENT_QUOTES );
		$this->assertMatchesRegularExpression( "/The daemon's shop\\s+not named \\(a daemon before 1\\.0\\)/", $text );
		$figures = Woodoo_Status::figures( self::answer( array( 'shop' => str_repeat( 's', 500 ) ) ) );
		$this->assertSame( Woodoo_Status::MAX_SHOP, strlen( $figures['shop'] ) );
		$this->assertNull( Woodoo_Status::figures( self::answer( array( 'shop' => array( 'x' ) ) ) )['shop'] );
	}

	/**
	 * Hostile strings in every field of the daemon's answer, and in this shop's own last error:
	 * nothing comes out raw.
	 */
	public function test_the_panel_escapes_everything() {
		$h       = self::HOSTILE;
		$breaker = array(
			'state'    => $h,
			'since'    => $h,
			'failures' => $h,
			$h         => $h,
		);
		$answer  = array(
			'status'                   => 'ok',
			'version'                  => $h,
			'shop'                     => $h,
			'now'                      => $h,
			'orders_enabled'           => $h,
			'last_successful_poll'     => $h,
			'queue_depth'              => $h,
			'dead_letters_open'        => $h,
			'events_set_aside'         => $h,
			'orders_needing_attention' => $h,
			'last_reconciliation'      => array(
				'at'          => $h,
				'drift_items' => $h,
				'drift_units' => $h,
			),
			'breakers'                 => array(
				'odoo'        => $breaker,
				'woocommerce' => array( 'state' => 'open' ) + $breaker,
				$h            => $breaker,
			),
			'alerts'                   => array(
				array(
					'key'   => $h,
					'title' => $h,
					'since' => $h,
				),
				array(
					'title' => "line\nbreak " . $h,
					'since' => 1795441834,
				),
				$h,
				array( 'title' => array( $h ) ),
			),
			'parts'                    => array(
				'module' => array(
					'level' => 'broken',
					'words' => $h,
				),
				'plugin' => $h,
			),
			$h                         => $h,
		);
		self::respond( 200, $answer );
		$GLOBALS['wpdb']->tables['wp_woodoo_events'] = array(
			array( 'id' => 1, 'created_at' => 1795441954, 'last_attempt_at' => 1795442254, 'last_error' => 'HTTP 500 ' . $h, 'delivered_at' => null, 'gave_up_at' => null ),
		);
		set_transient( Woodoo_Settings::RESULT . '_1', array( false, 'test said ' . $h ) );
		$html = self::panel();

		$this->assertStringNotContainsStringIgnoringCase( '<script', $html );
		$this->assertStringNotContainsStringIgnoringCase( '<img', $html );
		$this->assertDoesNotMatchRegularExpression( '/\son\w+\s*=/i', self::tags_only( $html ), 'no event handler attribute in any tag' );
		$this->assertStringContainsString( '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#039; &amp; &quot;onmouseover=alert(1) &lt;img src=x onerror=alert(2)&gt;', $html, 'the version and the titles are shown escaped' );
		$this->assertStringContainsString( 'HTTP 500 &lt;script&gt;', $html, 'this shop\'s own last error is escaped' );
		$this->assertStringContainsString( 'test said &lt;script&gt;', $html );
		$this->assertStringContainsString( 'line break &lt;script&gt;', $html, 'a title is one line' );
		// Only the panel's own tags, and attributes it wrote itself.
		preg_match_all( '/<\/?([a-zA-Z0-9]+)/', $html, $tags );
		$this->assertSame( array(), array_diff( array_unique( $tags[1] ), array( 'tr', 'th', 'td', 'table', 'tbody', 'ul', 'li', 'p', 'a', 'div' ) ) );
		preg_match_all( '/<[^>]*>/', $html, $all );
		foreach ( $all[0] as $tag ) {
			$this->assertDoesNotMatchRegularExpression( '/\bscript\b|onmouseover|onerror|alert/i', $tag, $tag );
		}
		// A number that is not one is unknown, not shown.
		$text = strip_tags( str_replace( '<', ' <', $html ) );
		$this->assertMatchesRegularExpression( '/Events waiting in the daemon\s+unknown/', $text );
		$this->assertMatchesRegularExpression( '/Order events\s+unknown/', $text );
		$this->assertStringContainsString( 'Odoo: unknown', $text );
		$this->assertStringContainsString( 'calls paused since unknown after unknown failures', $text );
	}

	public function test_the_panel_says_how_the_daemon_s_version_pairs_with_this_plugin() {
		$cases = array(
			WOODOO_COMPANION_VERSION => array( 'works with this plugin (' . WOODOO_COMPANION_VERSION . ')', false ),
			'0.1.0'                  => array( 'works, with limits, with this plugin', false ),
			'2.0.0'                  => array( 'cannot work with this plugin (' . WOODOO_COMPANION_VERSION . '): a different major version (2.x, newer)', true ),
			''                       => array( 'the daemon did not say a version this plugin can read', true ),
			'1.0.0-beta'             => array( 'the daemon did not say a version this plugin can read', true ),
			'99999999.0.0'           => array( 'the daemon did not say a version this plugin can read', true ),
		);
		foreach ( $cases as $version => $expected ) {
			Woodoo_Status::forget();
			self::respond( 200, self::answer( array( 'version' => (string) $version ) ) );
			$html = self::panel();
			preg_match( '#<tr><th scope="row" style="width:40%">Versions</th><td( style="color:\#b32d2e")?>([^<]*)</td></tr>#', $html, $row );
			$this->assertNotEmpty( $row, "the Versions row for '$version'" );
			$this->assertStringContainsString( $expected[0], html_entity_decode( $row[2], ENT_QUOTES ), "'$version'" );
			$this->assertSame( $expected[1], '' !== $row[1], "'$version' shown in red" );
		}
	}

	public function test_the_panel_shows_the_module_as_the_daemon_heard_it() {
		self::respond( 200, self::answer() );
		$this->assertStringContainsString( 'Odoo module (as the daemon heard it)</th><td>not heard from yet', self::panel() );
		Woodoo_Status::forget();
		$words = 'the Odoo module (woodoo-webhook 1.0) cannot work with this daemon (1.0.0): it signs its events the v1 way';
		self::respond(
			200,
			self::answer(
				array(
					'parts' => array(
						'plugin' => null,
						'module' => array( 'version' => '1.0', 'level' => 'broken', 'words' => $words, 'heard_at' => 1795441900 ),
					),
				)
			)
		);
		$this->assertStringContainsString( 'Odoo module (as the daemon heard it)</th><td style="color:#b32d2e">' . esc_html( $words ), self::panel() );
	}

	public function test_a_daemon_verdict_that_is_not_one_is_not_shown() {
		$h     = self::HOSTILE;
		$parts = array(
			array( 'module' => array( 'level' => 'fine', 'words' => 'trust me' ) ),
			array( 'module' => array( 'level' => 'works', 'words' => array( $h ) ) ),
			array( 'module' => array( 'level' => 'works', 'words' => '' ) ),
			array( 'module' => $h ),
			$h,
		);
		foreach ( $parts as $value ) {
			$figures = Woodoo_Status::figures( self::answer( array( 'parts' => $value ) ) );
			$this->assertNull( $figures['parts']['module'] );
		}
		$figures = Woodoo_Status::figures( self::answer( array( 'parts' => array( 'module' => array( 'level' => 'broken', 'words' => str_repeat( 'w', 5000 ) . $h ) ) ) ) );
		$this->assertSame( Woodoo_Status::MAX_WORDS, strlen( $figures['parts']['module']['words'] ) );
	}

	public function test_a_long_version_and_title_are_cut() {
		$long = self::answer(
			array(
				'version' => str_repeat( 'v', 500 ),
				'alerts'  => array_fill( 0, 50, array( 'title' => str_repeat( 't', 1000 ), 'since' => 1 ) ),
			)
		);
		$figures = Woodoo_Status::figures( $long );
		$this->assertSame( Woodoo_Status::MAX_VERSION, strlen( $figures['version'] ) );
		$this->assertCount( Woodoo_Status::MAX_ALERTS, $figures['alerts'] );
		$this->assertSame( Woodoo_Status::MAX_TITLE, strlen( $figures['alerts'][0]['title'] ) );
	}

	public function test_an_unreachable_daemon_gets_a_short_reason_never_the_remote_words() {
		$cases = array(
			array( new WP_Error( 'http_request_failed', 'cURL error 60: SSL certificate subject name "evil<script>x</script>" does not match' ), 'no answer from the daemon (DNS, connection refused, TLS or a timeout of 3 s)' ),
			array( woodoo_http( 500, '<html><h1>Internal error</h1><pre>stack trace with db password</pre></html>' ), 'HTTP 500: the daemon, or a proxy in front of it, failed; see the daemon&#039;s log' ),
			array( woodoo_http( 502, '{"error":"bad_gateway","message":"upstream said <script>"}' ), 'HTTP 502: the daemon, or a proxy in front of it, failed' ),
			array( woodoo_http( 200, '<html>Welcome to nginx! stack trace with db password</html>' ), 'HTTP 200: the answer is not a Woodoo status; is the daemon URL right?' ),
			array( woodoo_http( 200, '{"status":"maybe","version":"stack trace with db password"}' ), 'HTTP 200: the answer is not a Woodoo status' ),
			array( woodoo_http( 404, 'Not Found: stack trace with db password' ), 'HTTP 404: nothing answers status requests at /webhooks/status' ),
			array( woodoo_http( 301, '' ), 'HTTP 301: the daemon URL redirects, and redirects are not followed' ),
			array( woodoo_http( 418, 'stack trace with db password' ), 'HTTP 418: an answer the daemon does not give' ),
		);
		foreach ( $cases as $case ) {
			woodoo_test_reset();
			$this->setUp();
			$GLOBALS['wp_http_responses'][] = $case[0];
			$html                           = self::panel();
			$this->assertStringContainsString( 'not reachable: ' . $case[1], $html );
			foreach ( array( 'evil', 'cURL', 'stack trace', 'password', 'upstream', 'nginx', 'Internal error', 'script>', 'script&gt;' ) as $remote ) {
				$this->assertStringNotContainsString( $remote, $html, $case[1] );
			}
			$this->assertStringNotContainsString( 'Events waiting in the daemon', $html, 'no figure when there is none' );
			$this->assertStringContainsString( 'This shop', $html, 'this shop\'s own queue is always shown' );
		}
	}

	public function test_a_401_says_which_secret_to_check() {
		$secret_words = 'HTTP 401: the daemon refused the signature: the events secret differs from webhooks.shop_secrets, or the clocks differ';
		foreach ( array(
			'{"error":"bad_signature","message":"signature does not match <script>"}' => $secret_words,
			''                                                                         => $secret_words,
			'{"error":"<script>","message":"x"}'                                     => $secret_words,
			'{"error":"stale_timestamp","message":"timestamp 1 is 99 s"}'             => 'HTTP 401: the daemon refused the signature&#039;s time: the shop&#039;s and the daemon&#039;s clocks differ by more than 5 minutes',
			'{"error":"no_secret","message":"no secret"}'                             => 'HTTP 401: the daemon has no webhooks.shop_secrets configured',
		) as $body => $words ) {
			woodoo_test_reset();
			$this->setUp();
			self::respond( 401, $body );
			$html = self::panel();
			$this->assertStringContainsString( 'not reachable: ' . $words, $html );
			$this->assertStringNotContainsString( 'does not match', $html );
			$this->assertStringNotContainsString( 'script&gt;', $html );
		}
	}

	public function test_nothing_is_asked_until_the_url_and_the_events_secret_are_usable() {
		woodoo_test_reset();
		$this->assertStringContainsString( 'not reachable: the daemon URL is not set', self::panel() );
		update_option( Woodoo_Settings::URL_OPTION, 'https://woodoo.example.com/' );
		delete_transient( Woodoo_Status::TRANSIENT );
		$this->assertStringContainsString( 'does not end in /webhooks/woocommerce', self::panel() );
		update_option( Woodoo_Settings::URL_OPTION, self::URL );
		delete_transient( Woodoo_Status::TRANSIENT );
		$this->assertStringContainsString( 'not reachable: the events secret is not set', self::panel() );
		update_option( Woodoo_Settings::EVENTS_SECRET, 'short' );
		delete_transient( Woodoo_Status::TRANSIENT );
		$this->assertStringContainsString( 'the events secret is shorter than 32 characters', self::panel() );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'] );
	}

	public function test_a_shop_manager_sees_the_panel_too() {
		$GLOBALS['wp_caps'] = array( 'manage_woocommerce' => true );
		self::respond( 200, self::answer() );
		$this->assertStringContainsString( 'reachable, Woodoo 0.1.0', self::panel() );
	}

	/** The markup of the tags alone, text removed. */
	private static function tags_only( $html ) {
		preg_match_all( '/<[^>]*>/', $html, $all );
		return implode( '', $all[0] );
	}
}
