<?php
use PHPUnit\Framework\TestCase;

final class SettingsTest extends TestCase {

	protected function setUp(): void {
		woodoo_test_reset();
	}

	public function test_url_must_be_http_or_https() {
		$this->assertSame( 'https://woodoo.example.com/webhooks/woocommerce', Woodoo_Settings::sanitize_url( '  https://woodoo.example.com/webhooks/woocommerce ' ) );
		$this->assertSame( 'http://10.0.0.5:8765/webhooks/woocommerce', Woodoo_Settings::sanitize_url( 'http://10.0.0.5:8765/webhooks/woocommerce' ) );
		$this->assertSame( '', Woodoo_Settings::sanitize_url( '   ' ) );
		foreach ( array( 'ftp://x.example/', 'javascript:alert(1)', 'woodoo.example.com', 'https://', 'file:///etc/passwd', 'https://a.example/"><script>' ) as $bad ) {
			$this->assertNull( Woodoo_Settings::sanitize_url( $bad ), $bad );
		}
	}

	public function test_invalid_url_keeps_the_previous_value() {
		update_option( Woodoo_Settings::URL_OPTION, 'https://old.example/webhooks/woocommerce' );
		$this->assertSame( 'https://old.example/webhooks/woocommerce', Woodoo_Settings::sanitize_url_option( 'x', array(), 'ftp://nope' ) );
		$this->assertSame( 'https://new.example/hook', Woodoo_Settings::sanitize_url_option( 'x', array(), 'https://new.example/hook' ) );
	}

	public function test_secret_is_trimmed_and_empty_keeps_the_stored_one() {
		$this->assertSame( 'abc\\def', Woodoo_Settings::sanitize_secret( "  abc\\def \n", '' ) );
		$this->assertSame( 'stored', Woodoo_Settings::sanitize_secret( '   ', 'stored' ) );
		update_option( Woodoo_Settings::SECRET, 'stored' );
		$this->assertSame( 'stored', Woodoo_Settings::sanitize_secret_option( '', array(), '' ) );
		$this->assertSame( 'new <secret>', Woodoo_Settings::sanitize_secret_option( 'wc_cleaned', array(), ' new <secret> ' ), 'the raw value, not a text-field-cleaned one' );
	}

	public function test_secret_is_never_echoed_back() {
		update_option( Woodoo_Settings::SECRET, 'whsec_very_secret_value' );
		$html = Woodoo_Settings::secret_field_html();
		$this->assertStringNotContainsString( 'whsec_very_secret_value', $html );
		$this->assertStringContainsString( 'value=""', $html );
		$this->assertStringContainsString( 'type="password"', $html );
		$this->assertStringContainsString( 'A secret is set', $html );
		foreach ( Woodoo_Settings::fields() as $field ) {
			$this->assertStringNotContainsString( 'whsec_very_secret_value', json_encode( $field ) );
		}
	}

	public function test_status_row_shows_the_waiting_count_and_a_nonce_button() {
		$GLOBALS['wpdb']->tables['wp_woodoo_events'] = array(
			array( 'delivered_at' => null, 'gave_up_at' => null ),
			array( 'delivered_at' => null, 'gave_up_at' => null ),
			array( 'delivered_at' => 5, 'gave_up_at' => null ),
		);
		set_transient( Woodoo_Settings::RESULT . '_1', array( false, 'no answer <b>from</b> daemon' ) );
		require_once __DIR__ . '/stubs-admin.php';
		ob_start();
		Woodoo_Settings::render_status( array() );
		$html = ob_get_clean();
		$this->assertStringContainsString( '2 events waiting', $html );
		$this->assertStringContainsString( '_wpnonce=', $html );
		$this->assertStringContainsString( 'action=woodoo_companion_test', $html );
		$this->assertStringContainsString( 'no answer &lt;b&gt;from&lt;/b&gt; daemon', $html );
	}

	public function test_register_adds_the_tab_and_the_test_handler() {
		Woodoo_Settings::register();
		$this->assertArrayHasKey( 'admin_post_woodoo_companion_test', $GLOBALS['wp_actions'] );
		$this->assertSame( array( 'general' => 'General', 'woodoo' => 'Woodoo' ), Woodoo_Settings::add_tab( array( 'general' => 'General' ) ) );
	}

	/**
	 * @runInSeparateProcess
	 * @preserveGlobalState disabled
	 */
	public function test_constants_win_and_lock_the_fields() {
		define( 'WOODOO_DAEMON_URL', 'https://const.example/webhooks/woocommerce' );
		define( 'WOODOO_SECRET', ' const-secret ' );
		woodoo_test_reset();
		update_option( Woodoo_Settings::URL_OPTION, 'https://option.example/x' );
		update_option( Woodoo_Settings::SECRET, 'option-secret' );
		$this->assertSame( 'https://const.example/webhooks/woocommerce', Woodoo_Settings::daemon_url() );
		$this->assertSame( 'const-secret', Woodoo_Settings::secret() );
		// Posted values are ignored while the constants are set.
		$this->assertSame( 'https://option.example/x', Woodoo_Settings::sanitize_url_option( 'x', array(), 'https://posted.example/' ) );
		$this->assertSame( 'option-secret', Woodoo_Settings::sanitize_secret_option( 'x', array(), 'posted' ) );
		$html = Woodoo_Settings::secret_field_html();
		$this->assertStringContainsString( 'readonly', $html );
		$this->assertStringNotContainsString( 'const-secret', $html );
		$url_field = Woodoo_Settings::fields()[1];
		$this->assertSame( array( 'readonly' => 'readonly' ), $url_field['custom_attributes'] );
		$this->assertSame( 'https://const.example/webhooks/woocommerce', $url_field['value'] );
	}
}
