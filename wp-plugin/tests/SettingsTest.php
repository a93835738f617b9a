<?php
use PHPUnit\Framework\TestCase;

final class SettingsTest extends TestCase {

	const EVENTS = 'whsec_events_0123456789abcdef0123456789abcdef';
	const STOCK  = 'whsec_stock_0123456789abcdef0123456789abcdef';

	protected function setUp(): void {
		woodoo_test_reset();
	}

	public function test_url_must_be_http_or_https() {
		$this->assertSame( 'https://woodoo.example.com/webhooks/woocommerce', Woodoo_Settings::sanitize_url( '  https://woodoo.example.com/webhooks/woocommerce ' ) );
		$this->assertSame( 'http://10.0.0.5:8765/webhooks/woocommerce', Woodoo_Settings::sanitize_url( 'http://10.0.0.5:8765/webhooks/woocommerce' ) );
		$this->assertSame( '', Woodoo_Settings::sanitize_url( '   ' ) );
		foreach ( array( 'ftp://x.example/', 'javascript:alert(1)', 'woodoo.example.com', 'https://', 'file:///etc/passwd', 'https://a.example/"><script>', array( 'https://a.example/' ), 'https://a.example/' . str_repeat( 'a', 2000 ) ) as $bad ) {
			$this->assertNull( Woodoo_Settings::sanitize_url( $bad ), json_encode( $bad ) );
		}
	}

	public function test_an_administrator_saves_the_url_and_both_secrets() {
		$changed = Woodoo_Settings::update(
			array(
				Woodoo_Settings::URL_OPTION    => ' https://new.example/webhooks/woocommerce ',
				Woodoo_Settings::EVENTS_SECRET => '  ' . self::EVENTS . "\n",
				Woodoo_Settings::STOCK_SECRET  => self::STOCK,
			)
		);
		$this->assertSame( array( Woodoo_Settings::URL_OPTION, Woodoo_Settings::EVENTS_SECRET, Woodoo_Settings::STOCK_SECRET ), $changed );
		$this->assertSame( array(), WC_Admin_Settings::$errors );
		$this->assertSame( 'https://new.example/webhooks/woocommerce', Woodoo_Settings::daemon_url() );
		$this->assertSame( self::EVENTS, Woodoo_Settings::events_secret() );
		$this->assertSame( self::STOCK, Woodoo_Settings::stock_secret() );
		$this->assertNull( Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS ) );
		$this->assertNull( Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK ) );
	}

	public function test_empty_fields_keep_the_stored_secrets() {
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
		$this->assertSame(
			array(),
			Woodoo_Settings::update(
				array(
					Woodoo_Settings::EVENTS_SECRET => '   ',
					Woodoo_Settings::STOCK_SECRET  => '',
				)
			)
		);
		$this->assertSame( self::EVENTS, Woodoo_Settings::events_secret() );
		$this->assertSame( self::STOCK, Woodoo_Settings::stock_secret() );
	}

	public function test_a_secret_is_taken_raw_not_text_field_cleaned() {
		$raw = ' new <secret> with \\ backslash 0123456789abcdef ';
		Woodoo_Settings::update( array( Woodoo_Settings::STOCK_SECRET => $raw ) );
		$this->assertSame( trim( $raw ), Woodoo_Settings::stock_secret() );
	}

	public function test_short_secrets_are_refused_in_words() {
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		$this->assertSame( array(), Woodoo_Settings::update( array( Woodoo_Settings::EVENTS_SECRET => str_repeat( 'x', 31 ) ) ) );
		$this->assertSame( self::EVENTS, Woodoo_Settings::events_secret() );
		$this->assertStringContainsString( 'at least 32 characters', WC_Admin_Settings::$errors[0] );
		$this->assertStringContainsString( 'events secret', WC_Admin_Settings::$errors[0] );
		$this->assertStringNotContainsString( str_repeat( 'x', 31 ), WC_Admin_Settings::$errors[0] );
	}

	public function test_the_two_secrets_must_differ() {
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		$this->assertSame( array(), Woodoo_Settings::update( array( Woodoo_Settings::STOCK_SECRET => self::EVENTS ) ) );
		$this->assertSame( '', Woodoo_Settings::stock_secret() );
		$this->assertStringContainsString( 'must differ', WC_Admin_Settings::$errors[0] );
		WC_Admin_Settings::$errors = array();
		// Both typed at once, equal: neither is saved.
		$this->assertSame(
			array(),
			Woodoo_Settings::update(
				array(
					Woodoo_Settings::EVENTS_SECRET => self::STOCK,
					Woodoo_Settings::STOCK_SECRET  => self::STOCK,
				)
			)
		);
		$this->assertSame( self::EVENTS, Woodoo_Settings::events_secret() );
		$this->assertCount( 1, WC_Admin_Settings::$errors );
	}

	public function test_invalid_url_keeps_the_previous_value() {
		update_option( Woodoo_Settings::URL_OPTION, 'https://old.example/webhooks/woocommerce' );
		$this->assertSame( array(), Woodoo_Settings::update( array( Woodoo_Settings::URL_OPTION => 'ftp://nope' ) ) );
		$this->assertSame( 'https://old.example/webhooks/woocommerce', Woodoo_Settings::daemon_url() );
		$this->assertStringContainsString( 'http:// or https://', WC_Admin_Settings::$errors[0] );
	}

	public function test_a_shop_manager_sees_the_settings_read_only_and_cannot_change_them() {
		update_option( Woodoo_Settings::URL_OPTION, 'https://old.example/webhooks/woocommerce' );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		$GLOBALS['wp_caps'] = array( 'manage_woocommerce' => true );
		$before             = $GLOBALS['wp_options'];
		$changed            = Woodoo_Settings::update(
			array(
				Woodoo_Settings::URL_OPTION    => 'https://attacker.example/collect',
				Woodoo_Settings::EVENTS_SECRET => str_repeat( 'a', 40 ),
				Woodoo_Settings::STOCK_SECRET  => str_repeat( 'b', 40 ),
			)
		);
		$this->assertSame( array(), $changed );
		$this->assertSame( $before, $GLOBALS['wp_options'] );
		$this->assertStringContainsString( 'Only administrators', WC_Admin_Settings::$errors[0] );
		$url_field = Woodoo_Settings::fields()[1];
		$this->assertSame( 'readonly', $url_field['custom_attributes']['readonly'] );
		$this->assertStringContainsString( 'Only administrators', $url_field['desc'] );
		foreach ( array( Woodoo_Settings::EVENTS, Woodoo_Settings::STOCK ) as $channel ) {
			$this->assertStringContainsString( 'disabled="disabled"', Woodoo_Settings::secret_field_html( $channel ) );
		}
	}

	public function test_the_save_action_reads_the_post_and_needs_manage_options() {
		$_POST = array( Woodoo_Settings::URL_OPTION => 'https://posted.example/webhooks/woocommerce' );
		$GLOBALS['wp_caps'] = array( 'manage_woocommerce' => true );
		Woodoo_Settings::save();
		$this->assertSame( '', Woodoo_Settings::daemon_url() );
		$GLOBALS['wp_caps'] = array( 'manage_options' => true );
		Woodoo_Settings::save();
		$this->assertSame( 'https://posted.example/webhooks/woocommerce', Woodoo_Settings::daemon_url() );
		$_POST = array();
	}

	public function test_non_text_posts_are_refused() {
		$this->assertSame(
			array(),
			Woodoo_Settings::update(
				array(
					Woodoo_Settings::EVENTS_SECRET => array( self::EVENTS ),
					Woodoo_Settings::URL_OPTION    => array( 'https://x.example/' ),
				)
			)
		);
		$this->assertSame( array(), $GLOBALS['wp_options'] );
		$this->assertCount( 2, WC_Admin_Settings::$errors );
	}

	public function test_secrets_are_never_echoed_back() {
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
		foreach ( array( Woodoo_Settings::EVENTS, Woodoo_Settings::STOCK ) as $channel ) {
			$html = Woodoo_Settings::secret_field_html( $channel );
			$this->assertStringNotContainsString( self::EVENTS, $html );
			$this->assertStringNotContainsString( self::STOCK, $html );
			$this->assertStringContainsString( 'value=""', $html );
			$this->assertStringContainsString( 'type="password"', $html );
			$this->assertStringContainsString( 'A secret is set', $html );
			$this->assertStringNotContainsString( 'disabled', $html );
		}
		$this->assertStringContainsString( 'webhooks.shop_secrets', Woodoo_Settings::secret_field_html( Woodoo_Settings::EVENTS ) );
		$this->assertStringContainsString( 'woocommerce.plugin_secret', Woodoo_Settings::secret_field_html( Woodoo_Settings::STOCK ) );
		foreach ( Woodoo_Settings::fields() as $field ) {
			$this->assertStringNotContainsString( self::EVENTS, json_encode( $field ) );
			$this->assertStringNotContainsString( self::STOCK, json_encode( $field ) );
		}
	}

	public function test_secret_problems_in_words() {
		$this->assertStringContainsString( 'events secret is not set', Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS ) );
		$this->assertStringContainsString( 'WOODOO_STOCK_SECRET', Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK ) );
		update_option( Woodoo_Settings::STOCK_SECRET, 'short' );
		$this->assertStringContainsString( 'shorter than 32', Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK ) );
		update_option( Woodoo_Settings::STOCK_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		$this->assertStringContainsString( 'the same', Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK ) );
		$this->assertStringContainsString( 'the same', Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS ) );
		ob_start();
		Woodoo_Settings::not_configured_notice();
		$this->assertStringContainsString( 'refuses every write', ob_get_clean() );
	}

	public function test_the_legacy_secret_is_removed_not_migrated() {
		update_option( Woodoo_Settings::LEGACY_SECRET, 'old-single-secret' );
		Woodoo_Plugin::forget_legacy_secret();
		$this->assertFalse( get_option( Woodoo_Settings::LEGACY_SECRET ) );
		$this->assertSame( '', Woodoo_Settings::events_secret() );
		$this->assertSame( '', Woodoo_Settings::stock_secret() );
	}

	public function test_after_the_upgrade_from_0_1_the_notice_says_what_to_do_on_both_sides() {
		ob_start();
		Woodoo_Settings::not_configured_notice();
		$this->assertStringNotContainsString( '0.1', ob_get_clean(), 'a new install is told nothing of 0.1' );
		update_option( Woodoo_Settings::LEGACY_SECRET, 'old-single-secret' );
		Woodoo_Plugin::forget_legacy_secret();
		ob_start();
		Woodoo_Settings::not_configured_notice();
		$notice = ob_get_clean();
		foreach ( array( 'the events secret is not set', 'single secret of Woodoo Companion 0.1 (woodoo_companion_secret, or WOODOO_SECRET in wp-config.php) is no longer read and was not copied', 'WOODOO_EVENTS_SECRET and WOODOO_STOCK_SECRET', 'webhooks.shop_secrets (the events secret) and woocommerce.plugin_secret (the stock secret)', 'No event is lost meanwhile' ) as $said ) {
			$this->assertStringContainsString( $said, $notice );
		}
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
		ob_start();
		Woodoo_Settings::not_configured_notice();
		$this->assertSame( '', ob_get_clean() );
		$this->assertFalse( get_option( Woodoo_Settings::REPLACED ) );
	}

	public function test_status_row_shows_the_waiting_count_and_a_nonce_button() {
		$GLOBALS['wpdb']->tables['wp_woodoo_events'] = array(
			array( 'id' => 1, 'created_at' => 1795441954, 'last_attempt_at' => 1795442254, 'last_error' => 'no answer from the daemon: cURL error 7', 'delivered_at' => null, 'gave_up_at' => null ),
			array( 'id' => 2, 'created_at' => 1795442000, 'last_attempt_at' => 1795442300, 'last_error' => 'HTTP 503 error=<b>orders_disabled</b>', 'delivered_at' => null, 'gave_up_at' => null ),
			array( 'id' => 3, 'created_at' => 1795400000, 'delivered_at' => 5, 'gave_up_at' => null ),
			array( 'id' => 4, 'created_at' => 1795400000, 'delivered_at' => null, 'gave_up_at' => 5 ),
			array( 'id' => 5, 'created_at' => 1795400000, 'delivered_at' => null, 'gave_up_at' => null, 'superseded_at' => 5 ),
		);
		set_transient( Woodoo_Settings::RESULT . '_1', array( false, 'no answer <b>from</b> daemon' ) );
		require_once __DIR__ . '/stubs-admin.php';
		ob_start();
		Woodoo_Settings::render_status( array() );
		$html = ob_get_clean();
		$this->assertStringContainsString( '2 events waiting for delivery (oldest from 2026-11-23 13:52, last error: HTTP 503 error=&lt;b&gt;orders_disabled&lt;/b&gt;).', $html, 'delivered, refused and superseded events are not waiting' );
		$this->assertStringContainsString( '_wpnonce=', $html );
		$this->assertStringContainsString( 'action=woodoo_companion_test', $html );
		$this->assertStringContainsString( 'no answer &lt;b&gt;from&lt;/b&gt; daemon', $html );
	}

	public function test_register_adds_the_tab_and_the_test_handler() {
		Woodoo_Settings::register();
		$this->assertArrayHasKey( 'admin_post_woodoo_companion_test', $GLOBALS['wp_actions'] );
		$this->assertArrayHasKey( 'woocommerce_update_options_woodoo', $GLOBALS['wp_actions'] );
		$this->assertSame( array( 'general' => 'General', 'woodoo' => 'Woodoo' ), Woodoo_Settings::add_tab( array( 'general' => 'General' ) ) );
	}

	/**
	 * @runInSeparateProcess
	 * @preserveGlobalState disabled
	 */
	public function test_constants_win_and_lock_the_fields() {
		define( 'WOODOO_DAEMON_URL', 'https://const.example/webhooks/woocommerce' );
		define( 'WOODOO_EVENTS_SECRET', ' const-events-0123456789abcdef0123456789 ' );
		define( 'WOODOO_STOCK_SECRET', 'const-stock-0123456789abcdef0123456789' );
		woodoo_test_reset();
		update_option( Woodoo_Settings::URL_OPTION, 'https://option.example/x' );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK );
		$this->assertSame( 'https://const.example/webhooks/woocommerce', Woodoo_Settings::daemon_url() );
		$this->assertSame( 'const-events-0123456789abcdef0123456789', Woodoo_Settings::events_secret() );
		$this->assertSame( 'const-stock-0123456789abcdef0123456789', Woodoo_Settings::stock_secret() );
		// Posted values are ignored while the constants are set.
		$this->assertSame(
			array(),
			Woodoo_Settings::update(
				array(
					Woodoo_Settings::URL_OPTION    => 'https://posted.example/',
					Woodoo_Settings::EVENTS_SECRET => str_repeat( 'p', 40 ),
					Woodoo_Settings::STOCK_SECRET  => str_repeat( 'q', 40 ),
				)
			)
		);
		$this->assertSame( self::EVENTS, get_option( Woodoo_Settings::EVENTS_SECRET ) );
		foreach ( array( Woodoo_Settings::EVENTS => 'WOODOO_EVENTS_SECRET', Woodoo_Settings::STOCK => 'WOODOO_STOCK_SECRET' ) as $channel => $constant ) {
			$html = Woodoo_Settings::secret_field_html( $channel );
			$this->assertStringContainsString( 'readonly', $html );
			$this->assertStringContainsString( 'Set by ' . $constant, $html );
			$this->assertStringNotContainsString( 'const-', $html );
		}
		$url_field = Woodoo_Settings::fields()[1];
		$this->assertSame( 'readonly', $url_field['custom_attributes']['readonly'] );
		$this->assertSame( 'https://const.example/webhooks/woocommerce', $url_field['value'] );
	}

	/**
	 * @runInSeparateProcess
	 * @preserveGlobalState disabled
	 */
	public function test_a_short_constant_is_refused_at_use() {
		define( 'WOODOO_STOCK_SECRET', 'too-short' );
		woodoo_test_reset();
		$this->assertStringContainsString( 'shorter than 32', Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK ) );
		list( $status, $data ) = Woodoo_Stock_Route::handle( '{"items":[]}', 't=1,v2=' . str_repeat( '0', 64 ) );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
	}

	public function test_the_waiting_text_tells_the_truth() {
		$this->assertSame( '0 events waiting for delivery.', Woodoo_Settings::waiting_text( Woodoo_Queue::waiting_summary() ) );
		$this->assertSame( '1 event waiting for delivery (oldest from 2026-11-23 13:52).', Woodoo_Settings::waiting_text( array( 'waiting' => 1, 'oldest' => 1795441954, 'last_error' => null ) ), 'not tried yet' );
		update_option( 'date_format', 'd/m/Y' );
		update_option( 'time_format', 'H:i:s' );
		$text = Woodoo_Settings::waiting_text( array( 'waiting' => 8, 'oldest' => 1795441954, 'last_error' => str_repeat( 'x', 500 ) ) );
		$this->assertStringStartsWith( '8 events waiting for delivery (oldest from 23/11/2026 13:52:34, last error: xxx', $text );
		$this->assertLessThan( 300, strlen( $text ), 'the error is cut short' );
	}
}
