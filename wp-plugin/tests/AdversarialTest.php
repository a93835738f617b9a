<?php
use PHPUnit\Framework\TestCase;

/**
 * Hostile input against the stock route, the flush route and the settings: every case must be
 * refused with a 4xx in words (never a 5xx or a PHP error; PHPUnit turns notices and warnings
 * into failures) and must leave no trace: no stock written, no product saved, no cache cleared, no
 * set_stock action, no option changed, no replay memory entry, no event sent, rescheduled or
 * changed.
 */
final class AdversarialTest extends TestCase {

	const T      = 1795441954;
	const SECRET = 'whsec_stock_0123456789abcdef0123456789abcdef';
	const EVENTS = 'whsec_events_0123456789abcdef0123456789abcdef';
	const GOOD   = '{"items":[{"id":33,"expected":24,"quantity":21}]}';
	const FLUSH  = '{"max_events":100}';

	/**
	 * Hostile inputs sent, and how many of them were accepted.
	 *
	 * @var int[]
	 */
	private static $sent     = 0;
	private static $accepted = 0;

	public static function tearDownAfterClass(): void {
		// STDERR, not the test output: beStrictAboutOutputDuringTests stays happy.
		fwrite( STDERR, sprintf( "\nplugin adversarial: %d hostile inputs, %d accepted\n", self::$sent, self::$accepted ) );
	}

	protected function setUp(): void {
		woodoo_test_reset();
		woodoo_fixture_shop();
		update_option( Woodoo_Settings::STOCK_SECRET, self::SECRET );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
		update_option( Woodoo_Settings::URL_OPTION, 'https://woodoo.example.com/webhooks/woocommerce' );
	}

	private static function sign( $body, $secret = self::SECRET, $route = Woodoo_Signer::PLUGIN_STOCK, $timestamp = self::T ) {
		return Woodoo_Signer::sign( $body, $secret, $route, $timestamp );
	}

	/** Everything a write would change, to compare before and after. */
	private function trace() {
		$products = array();
		foreach ( $GLOBALS['wc_products'] as $id => $product ) {
			$products[ $id ] = array( $product->data, $product->saved );
		}
		return array(
			'products'  => $products,
			'writes'    => array_values(
				array_filter(
					$GLOBALS['wpdb']->queries,
					function ( $q ) {
						return 0 === strpos( $q, 'UPDATE' );
					}
				)
			),
			'options'   => $GLOBALS['wp_options'],
			'cleared'   => $GLOBALS['wc_transients_cleared'],
			'set_stock' => array_filter(
				array_column( $GLOBALS['wp_done_actions'], 0 ),
				function ( $hook ) {
					return false !== strpos( $hook, 'set_stock' );
				}
			),
			'replay'    => $GLOBALS['wpdb']->rows( 'wp_woodoo_replay' ),
			'events'    => $GLOBALS['wpdb']->rows( 'wp_woodoo_events' ),
			'requests'  => $GLOBALS['wp_http_requests'],
			'actions'   => $GLOBALS['as_actions'],
		);
	}

	/** Sends one hostile request and asserts it is refused without a trace. */
	private function assert_refused( $name, $body, $header, $now = self::T ) {
		++self::$sent;
		$before                = $this->trace();
		list( $status, $data ) = Woodoo_Stock_Route::handle( $body, $header, $now );
		if ( $status >= 200 && $status < 300 ) {
			++self::$accepted;
		}
		$this->assertGreaterThanOrEqual( 400, $status, $name );
		$this->assertLessThan( 500, $status, $name );
		$this->assertIsString( $data['error'], $name );
		$this->assertIsString( $data['message'], $name );
		$this->assertNotSame( '', $data['message'], $name );
		$answer = json_encode( $data );
		$this->assertNotFalse( $answer, $name . ': the answer is JSON' );
		$this->assertLessThan( 400, strlen( $answer ), $name . ': the answer is bounded' );
		$this->assertStringNotContainsString( 'EVIL', $answer, $name . ': the input is not echoed' );
		$this->assertSame( $before, $this->trace(), $name . ': nothing written' );
		return array( $status, $data );
	}

	public static function hostile_headers() {
		$body   = self::GOOD;
		$good   = self::sign( $body );
		$digest = substr( $good, strpos( $good, 'v2=' ) + 3 );
		$v1     = 't=' . self::T . ',v1=' . hash_hmac( 'sha256', self::T . '.' . $body, self::SECRET );
		return array(
			'missing'                       => array( null ),
			'empty'                         => array( '' ),
			'one space'                     => array( ' ' ),
			'garbage'                       => array( 'EVIL' ),
			'v1 of 0.1'                     => array( $v1 ),
			'v1 beside a good v2'           => array( $good . ',v1=' . str_repeat( '0', 64 ) ),
			't of 11 digits'                => array( 't=1' . self::T . ',v2=' . $digest ),
			'negative t'                    => array( 't=-' . self::T . ',v2=' . $digest ),
			'non-ASCII digit in t'          => array( 't=179544195٤,v2=' . $digest ),
			'full-width digits in t'        => array( 't=１７９５４４１９５４,v2=' . $digest ),
			'plus sign in t'                => array( 't=+' . self::T . ',v2=' . $digest ),
			'exponent t'                    => array( 't=1.795441954e9,v2=' . $digest ),
			'hex t'                         => array( 't=0x6B04C3A2,v2=' . $digest ),
			't=0 (stale)'                   => array( 't=0,v2=' . $digest ),
			't of 10 nines (stale)'         => array( 't=9999999999,v2=' . $digest ),
			'signed 301 s ago'              => array( self::sign( $body, self::SECRET, Woodoo_Signer::PLUGIN_STOCK, self::T - 301 ) ),
			'signed 301 s ahead'            => array( self::sign( $body, self::SECRET, Woodoo_Signer::PLUGIN_STOCK, self::T + 301 ) ),
			'two t'                         => array( 't=' . self::T . ',' . $good ),
			'v2 of 63 hex'                  => array( 't=' . self::T . ',v2=' . substr( $digest, 1 ) ),
			'v2 of 65 hex'                  => array( $good . 'a' ),
			'v2 not hex'                    => array( 't=' . self::T . ',v2=' . substr( $digest, 1 ) . 'z' ),
			'five v2, one good'             => array( $good . str_repeat( ',v2=' . str_repeat( 'a', 64 ), 4 ) ),
			'401 characters'                => array( $good . str_repeat( ' ', 401 - strlen( $good ) ) ),
			'10 KB'                         => array( $good . ',' . str_repeat( 'EVIL', 2500 ) ),
			'NUL byte'                      => array( $good . "\0" ),
			'header injection'              => array( $good . "\r\nX-Evil: 1" ),
			'UTF-8'                         => array( $good . ',é=EVIL' ),
			'array'                         => array( array( $good ) ),
			'integer'                       => array( 42 ),
			'upper-case keys'               => array( strtoupper( $good ) ),
			'space before ='                => array( 't =' . self::T . ',v2=' . $digest ),
			'semicolons'                    => array( 't=' . self::T . ';v2=' . $digest ),
			'empty v2'                      => array( 't=' . self::T . ',v2=' ),
			'bare v2'                       => array( 't=' . self::T . ',v2' ),
			'unknown v3'                    => array( $good . ',v3=' . $digest ),
			'all-zero digest'               => array( 't=' . self::T . ',v2=' . str_repeat( '0', 64 ) ),
			'another secret'                => array( self::sign( $body, 'whsec_EVIL_0123456789abcdef0123456789abcdef' ) ),
			'the events secret'             => array( self::sign( $body, self::EVENTS ) ),
			'an empty key'                  => array( 't=' . self::T . ',v2=' . hash_hmac( 'sha256', self::T . '.' . Woodoo_Signer::PLUGIN_STOCK . '.' . $body, '' ) ),
			'a short key'                   => array( 't=' . self::T . ',v2=' . hash_hmac( 'sha256', self::T . '.' . Woodoo_Signer::PLUGIN_STOCK . '.' . $body, 'whsec' ) ),
			'the events route'              => array( self::sign( $body, self::SECRET, Woodoo_Signer::SHOP_EVENTS ) ),
			'the Odoo route'                => array( self::sign( $body, self::SECRET, 'POST /webhooks/odoo' ) ),
			'the URL, not the route'        => array( self::sign( $body, self::SECRET, 'POST /wp-json/woodoo/v1/stock' ) ),
			'GET instead of POST'           => array( self::sign( $body, self::SECRET, 'GET /woodoo/v1/stock' ) ),
			'another body'                  => array( self::sign( '{"items":[{"id":33,"expected":24,"quantity":0}]}' ) ),
			'a truncated body'              => array( self::sign( rtrim( $body, '}' ) ) ),
			'no route in the message (0.1)' => array( 't=' . self::T . ',v2=' . hash_hmac( 'sha256', self::T . '.' . $body, self::SECRET ) ),
		);
	}

	/** @dataProvider hostile_headers */
	public function test_hostile_signature_headers_are_401( $header ) {
		$name = $this->dataName();
		$this->assertSame( 401, $this->assert_refused( $name, self::GOOD, $header )[0] );
	}

	public static function hostile_values() {
		$bad = array(
			'-1'                => '-1',
			'min int'           => (string) PHP_INT_MIN,
			'max int'           => (string) PHP_INT_MAX,
			'2^53 + 1'          => '9007199254740993',
			'1e9 + 1'           => '1000000001',
			'1.5'               => '1.5',
			'1.0'               => '1.0',
			'-0.0'              => '-0.0',
			'1e3'               => '1e3',
			'1e308'             => '1e308',
			'30 digits'         => '123456789012345678901234567890',
			'string'            => '"21"',
			'hex string'        => '"0x15"',
			'escaped digits'    => '"\u0032\u0031"',
			'null'              => 'null',
			'true'              => 'true',
			'false'             => 'false',
			'list'              => '[21]',
			'object'            => '{"v":21}',
			'markup'            => '"<b>EVIL</b>"',
		);
		$out = array();
		foreach ( array( 'id', 'expected', 'quantity' ) as $field ) {
			foreach ( $bad as $label => $json ) {
				if ( 'id' === $field && '1e9 + 1' === $label ) {
					continue; // Valid ids: refused as "no such product" per item, not as a schema error.
				}
				$item                      = array(
					'id'       => '33',
					'expected' => '24',
					'quantity' => '21',
				);
				$item[ $field ]            = $json;
				$out[ "{$field} {$label}" ] = array( '{"items":[{"id":' . $item['id'] . ',"expected":' . $item['expected'] . ',"quantity":' . $item['quantity'] . '}]}', $field );
			}
		}
		foreach ( array( 'id', 'expected', 'quantity' ) as $field ) {
			$item = array(
				'id'       => 33,
				'expected' => 24,
				'quantity' => 21,
			);
			unset( $item[ $field ] );
			$out[ "{$field} missing" ] = array( json_encode( array( 'items' => array( $item ) ) ), $field );
		}
		$out['id 0']         = array( '{"items":[{"id":0,"expected":24,"quantity":21}]}', 'id' );
		$out['expected -5']  = array( '{"items":[{"id":33,"expected":-5,"quantity":21}]}', 'expected' );
		$out['quantity -21'] = array( '{"items":[{"id":33,"expected":24,"quantity":-21}]}', 'quantity' );
		return $out;
	}

	/** @dataProvider hostile_values */
	public function test_hostile_numbers_are_400_naming_the_field( $body, $field ) {
		list( $status, $data ) = $this->assert_refused( $this->dataName(), $body, self::sign( $body ) );
		$this->assertSame( 400, $status );
		$this->assertContains( $data['field'], array( "items.0.{$field}", '(body)' ), $this->dataName() );
	}

	public static function hostile_bodies() {
		$item  = '{"id":33,"expected":24,"quantity":21}';
		$many  = function ( $n ) use ( $item ) {
			return '{"items":[' . implode( ',', array_fill( 0, $n, $item ) ) . ']}';
		};
		$items = array_fill( 0, 99, json_decode( $item, true ) );
		return array(
			'empty body'                     => array( '' ),
			'not JSON'                       => array( 'EVIL' ),
			'JSON null'                      => array( 'null' ),
			'JSON number'                    => array( '42' ),
			'JSON string'                    => array( '"items"' ),
			'a list'                         => array( '[' . $item . ']' ),
			'empty list'                     => array( '[]' ),
			'empty object'                   => array( '{}' ),
			'items missing'                  => array( '{"Items":[' . $item . ']}' ),
			'items null'                     => array( '{"items":null}' ),
			'items a string'                 => array( '{"items":"EVIL"}' ),
			'items an object'                => array( '{"items":{"0":' . $item . '}}' ),
			'items a number'                 => array( '{"items":1}' ),
			'duplicate key, last wins'       => array( '{"items":[' . $item . '],"items":"EVIL"}' ),
			'item a number'                  => array( '{"items":[33]}' ),
			'item a string'                  => array( '{"items":["EVIL"]}' ),
			'item a list'                    => array( '{"items":[[33,24,21]]}' ),
			'item null'                      => array( '{"items":[null]}' ),
			'item empty'                     => array( '{"items":[{}]}' ),
			'second item bad'                => array( '{"items":[' . $item . ',{"id":33,"expected":24,"quantity":-1}]}' ),
			'100th item bad'                 => array( json_encode( array( 'items' => array_merge( $items, array( array( 'id' => 12, 'expected' => 17, 'quantity' => 'EVIL' ) ) ) ) ) ),
			'101 items'                      => array( $many( 101 ) ),
			'10 000 items'                   => array( $many( 10000 ) ),
			'64 KiB + 1 of spaces'           => array( str_repeat( ' ', 65537 ) ),
			'64 KiB + 1 of valid JSON'       => array( '{"items":[' . $item . '],"pad":"' . str_repeat( 'x', 65537 - 21 - strlen( $item ) ) . '"}' ),
			'deep JSON (10 000 levels)'      => array( str_repeat( '[', 10000 ) . str_repeat( ']', 10000 ) ),
			'deep JSON in a value'           => array( '{"items":[{"id":33,"expected":24,"quantity":' . str_repeat( '[', 50 ) . str_repeat( ']', 50 ) . '}]}' ),
			'deep JSON beside the items'     => array( '{"items":[' . $item . '],"x":{"y":{"z":{"w":1}}}}' ),
			'invalid UTF-8'                  => array( '{"items":[' . $item . '],"x":"' . "\xff\xfe" . '"}' ),
			'UTF-8 BOM'                      => array( "\xef\xbb\xbf" . '{"items":[' . $item . ']}' ),
			'NaN'                            => array( '{"items":[{"id":33,"expected":24,"quantity":NaN}]}' ),
			'Infinity'                       => array( '{"items":[{"id":33,"expected":24,"quantity":Infinity}]}' ),
			'trailing comma'                 => array( '{"items":[' . $item . ',]}' ),
			'single quotes'                  => array( "{'items':[{'id':33,'expected':24,'quantity':21}]}" ),
			'comment'                        => array( '{"items":[' . $item . ']} // EVIL' ),
			'two documents'                  => array( '{"items":[' . $item . ']}{"items":[]}' ),
			'SQL in the id'                  => array( '{"items":[{"id":"33 OR 1=1","expected":24,"quantity":21}]}' ),
		);
	}

	/** @dataProvider hostile_bodies */
	public function test_hostile_bodies_are_400( $body ) {
		$this->assertSame( 400, $this->assert_refused( $this->dataName(), $body, self::sign( $body ) )[0] );
	}

	public function test_replays_are_409_and_applied_once() {
		$header = self::sign( self::GOOD );
		list( $status ) = Woodoo_Stock_Route::handle( self::GOOD, $header, self::T );
		$this->assertSame( 200, $status, 'the original request' );
		$this->assertSame( 21, $GLOBALS['wc_products'][33]->data['stock'] );
		$digest  = substr( $header, strpos( $header, 'v2=' ) + 3 );
		$replays = array(
			'same request'             => array( $header, self::T ),
			'same request 299 s later' => array( $header, self::T + 299 ),
			'same request 300 s later' => array( $header, self::T + 300 ),
			'v2 first'                 => array( 'v2=' . $digest . ',t=' . self::T, self::T + 1 ),
			'upper-case digest'        => array( 't=' . self::T . ',v2=' . strtoupper( $digest ), self::T + 2 ),
			'padded with another v2'   => array( $header . ',v2=' . str_repeat( 'a', 64 ), self::T + 3 ),
			'spaces'                   => array( ' t=' . self::T . ' , v2=' . $digest . ' ', self::T + 4 ),
			'before its own timestamp' => array( $header, self::T - 300 ),
		);
		foreach ( $replays as $name => $replay ) {
			$status = $this->assert_refused( 'replay: ' . $name, self::GOOD, $replay[0], $replay[1] )[0];
			$this->assertSame( 409, $status, $name );
		}
		// Once the signature itself is stale, the signer refuses it (401) and the memory may forget it.
		$this->assertSame( 401, $this->assert_refused( 'replay: stale', self::GOOD, $header, self::T + 301 )[0] );
	}

	public function test_hostile_requests_through_the_rest_adapter() {
		foreach ( array( array(), array( 'X-Woodoo-Signature' => 'EVIL' ), array( 'X-Woodoo-Signature' => self::sign( self::GOOD, self::EVENTS ) ) ) as $headers ) {
			++self::$sent;
			$before   = $this->trace();
			$response = Woodoo_Stock_Route::rest( new WP_REST_Request( self::GOOD, $headers ) );
			$this->assertSame( 401, $response->status );
			$this->assertSame( 'no-store', $response->headers['Cache-Control'] );
			$this->assertSame( $before, $this->trace() );
		}
	}

	/** Posts settings and asserts nothing changed; returns the error notices. */
	private function assert_settings_refused( $name, array $posted, array $caps = array( 'manage_options' => true, 'manage_woocommerce' => true ) ) {
		++self::$sent;
		$GLOBALS['wp_caps']        = $caps;
		WC_Admin_Settings::$errors = array();
		$before                    = $this->trace();
		$changed                   = Woodoo_Settings::update( $posted );
		if ( $changed ) {
			++self::$accepted;
		}
		$this->assertSame( array(), $changed, $name );
		$this->assertSame( $before, $this->trace(), $name . ': no option changed' );
		foreach ( WC_Admin_Settings::$errors as $error ) {
			$this->assertStringNotContainsString( 'EVIL', $error, $name . ': the input is not echoed' );
		}
		return WC_Admin_Settings::$errors;
	}

	public function test_hostile_settings_are_refused_in_words() {
		$e = Woodoo_Settings::EVENTS_SECRET;
		$s = Woodoo_Settings::STOCK_SECRET;
		$u = Woodoo_Settings::URL_OPTION;
		$refused_in_words = array(
			'events secret of 31 characters'   => array( $e => str_repeat( 'E', 27 ) . 'EVIL' ),
			'stock secret of 31 characters'    => array( $s => str_repeat( 'S', 27 ) . 'EVIL' ),
			'events secret of 1 character'     => array( $e => 'x' ),
			'31 characters padded to 40'       => array( $s => '    ' . str_repeat( 'S', 27 ) . 'EVIL     ' ),
			'31 two-byte characters (62 B)'    => array( $e => str_repeat( 'é', 31 ) ),
			'stock equal to the events secret' => array( $s => self::EVENTS ),
			'events equal to the stock secret' => array( $e => self::SECRET ),
			'both new and equal'               => array( $e => str_repeat( 'EVIL', 10 ), $s => str_repeat( 'EVIL', 10 ) ),
			'one new, one short'               => array( $e => str_repeat( 'n', 40 ), $s => 'EVIL' ),
			'secret as an array'               => array( $e => array( str_repeat( 'EVIL', 10 ) ) ),
			'secret as a number'               => array( $s => 12345678901234567890123456789012 ),
			'secret as null'                   => array( $e => null ),
			'URL ftp://'                       => array( $u => 'ftp://EVIL.example/' ),
			'URL javascript:'                  => array( $u => 'javascript:alert("EVIL")' ),
			'URL file://'                      => array( $u => 'file:///etc/passwd' ),
			'URL without scheme'               => array( $u => 'EVIL.example/webhooks/woocommerce' ),
			'URL scheme only'                  => array( $u => 'https://' ),
			'URL with markup'                  => array( $u => 'https://a.example/"><script>EVIL</script>' ),
			'URL with a newline'               => array( $u => "https://a.example/\nEVIL" ),
			'URL of 3000 characters'           => array( $u => 'https://a.example/' . str_repeat( 'EVIL', 750 ) ),
			'URL as an array'                  => array( $u => array( 'https://EVIL.example/' ) ),
			'URL protocol-relative'            => array( $u => '//EVIL.example/webhooks/woocommerce' ),
		);
		foreach ( $refused_in_words as $name => $posted ) {
			$errors = $this->assert_settings_refused( $name, $posted );
			$this->assertNotEmpty( $errors, $name . ': an admin notice says why' );
		}
		foreach ( array( 'empty secrets' => array( $e => '', $s => '' ), 'whitespace secrets' => array( $e => "  \t\n", $s => ' ' ) ) as $name => $posted ) {
			$this->assertSame( array(), $this->assert_settings_refused( $name, $posted ), $name . ': kept silently' );
		}
		$manager  = array( 'manage_woocommerce' => true );
		$crafted  = array(
			'shop manager: URL'                 => array( $u => 'https://EVIL.example/webhooks/woocommerce' ),
			'shop manager: events secret'       => array( $e => str_repeat( 'a', 40 ) ),
			'shop manager: stock secret'        => array( $s => str_repeat( 'b', 40 ) ),
			'shop manager: everything'          => array( $u => 'https://EVIL.example/', $e => str_repeat( 'a', 40 ), $s => str_repeat( 'b', 40 ) ),
			'shop manager: clearing the URL'    => array( $u => '' ),
		);
		foreach ( $crafted as $name => $posted ) {
			$errors = $this->assert_settings_refused( $name, $posted, $manager );
			$this->assertStringContainsString( 'Only administrators', $errors[0], $name );
		}
		$errors = $this->assert_settings_refused( 'no capability at all: URL', array( $u => 'https://EVIL.example/' ), array() );
		$this->assertStringContainsString( 'Only administrators', $errors[0] );
		// Through WooCommerce's save action, as a crafted POST would arrive.
		++self::$sent;
		$GLOBALS['wp_caps'] = $manager;
		$before             = $this->trace();
		$_POST              = array( $u => 'https://EVIL.example/', $s => str_repeat( 'b', 40 ) );
		Woodoo_Settings::save();
		$_POST = array();
		$this->assertSame( $before, $this->trace() );
	}

	public static function hostile_flushes() {
		$good   = self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::PLUGIN_FLUSH );
		$digest = substr( $good, strpos( $good, 'v2=' ) + 3 );
		$flush  = function ( $body ) {
			return array( $body, self::sign( $body, self::SECRET, Woodoo_Signer::PLUGIN_FLUSH ) );
		};
		$header = function ( $value ) {
			return array( self::FLUSH, $value );
		};
		return array(
			// Signatures.
			'flush: no signature'                 => $header( null ),
			'flush: empty signature'              => $header( '' ),
			'flush: garbage signature'            => $header( 'EVIL' ),
			'flush: v1 of 0.1'                    => $header( 't=' . self::T . ',v1=' . hash_hmac( 'sha256', self::T . '.' . self::FLUSH, self::SECRET ) ),
			'flush: signed for the stock route'   => $header( self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::PLUGIN_STOCK ) ),
			'flush: signed for the events route'  => $header( self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::SHOP_EVENTS ) ),
			'flush: signed for the URL'           => $header( self::sign( self::FLUSH, self::SECRET, 'POST /wp-json/woodoo/v1/flush' ) ),
			'flush: signed for GET'               => $header( self::sign( self::FLUSH, self::SECRET, 'GET /woodoo/v1/flush' ) ),
			'flush: the events secret'            => $header( self::sign( self::FLUSH, self::EVENTS, Woodoo_Signer::PLUGIN_FLUSH ) ),
			'flush: another secret'               => $header( self::sign( self::FLUSH, 'whsec_EVIL_0123456789abcdef0123456789abcdef', Woodoo_Signer::PLUGIN_FLUSH ) ),
			'flush: an empty key'                 => $header( 't=' . self::T . ',v2=' . hash_hmac( 'sha256', self::T . '.' . Woodoo_Signer::PLUGIN_FLUSH . '.' . self::FLUSH, '' ) ),
			'flush: signed 301 s ago'             => $header( self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::PLUGIN_FLUSH, self::T - 301 ) ),
			'flush: signed 301 s ahead'           => $header( self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::PLUGIN_FLUSH, self::T + 301 ) ),
			'flush: t of 11 digits'               => $header( 't=1' . self::T . ',v2=' . $digest ),
			'flush: five v2, one good'            => $header( $good . str_repeat( ',v2=' . str_repeat( 'a', 64 ), 4 ) ),
			'flush: 401 characters'               => $header( $good . str_repeat( ' ', 401 - strlen( $good ) ) ),
			'flush: header injection'             => $header( $good . "\r\nX-Evil: 1" ),
			'flush: array header'                 => $header( array( $good ) ),
			'flush: signature of another body'    => $header( self::sign( '{"max_events":500}', self::SECRET, Woodoo_Signer::PLUGIN_FLUSH ) ),
			'flush: no route in the message'      => $header( 't=' . self::T . ',v2=' . hash_hmac( 'sha256', self::T . '.' . self::FLUSH, self::SECRET ) ),
			// Bodies, correctly signed.
			'flush: empty body'                   => $flush( '' ),
			'flush: not JSON'                     => $flush( 'EVIL' ),
			'flush: JSON null'                    => $flush( 'null' ),
			'flush: JSON number'                  => $flush( '100' ),
			'flush: JSON string'                  => $flush( '"max_events"' ),
			'flush: a list'                       => $flush( '[' . self::FLUSH . ']' ),
			'flush: empty list'                   => $flush( '[]' ),
			'flush: max_events 0'                 => $flush( '{"max_events":0}' ),
			'flush: max_events 501'               => $flush( '{"max_events":501}' ),
			'flush: max_events -1'                => $flush( '{"max_events":-1}' ),
			'flush: max_events min int'           => $flush( '{"max_events":' . PHP_INT_MIN . '}' ),
			'flush: max_events max int'           => $flush( '{"max_events":' . PHP_INT_MAX . '}' ),
			'flush: max_events 30 digits'         => $flush( '{"max_events":123456789012345678901234567890}' ),
			'flush: max_events 1.5'               => $flush( '{"max_events":1.5}' ),
			'flush: max_events 100.0'             => $flush( '{"max_events":100.0}' ),
			'flush: max_events 1e2'               => $flush( '{"max_events":1e2}' ),
			'flush: max_events a string'          => $flush( '{"max_events":"100"}' ),
			'flush: max_events null'              => $flush( '{"max_events":null}' ),
			'flush: max_events true'              => $flush( '{"max_events":true}' ),
			'flush: max_events a list'            => $flush( '{"max_events":[100]}' ),
			'flush: max_events an object'         => $flush( '{"max_events":{"n":100}}' ),
			'flush: max_events markup'            => $flush( '{"max_events":"<b>EVIL</b>"}' ),
			'flush: another key beside'           => $flush( '{"max_events":100,"force":true}' ),
			'flush: only another key'             => $flush( '{"EVIL":1}' ),
			'flush: markup key'                   => $flush( '{"<script>EVIL</script>":1}' ),
			'flush: upper-case key'               => $flush( '{"MAX_EVENTS":100}' ),
			'flush: duplicate key, last bad'      => $flush( '{"max_events":100,"max_events":"EVIL"}' ),
			'flush: UTF-8 BOM'                    => $flush( "\xef\xbb\xbf" . self::FLUSH ),
			'flush: invalid UTF-8'                => $flush( '{"max_events":100,"x":"' . "\xff\xfe" . '"}' ),
			'flush: NaN'                          => $flush( '{"max_events":NaN}' ),
			'flush: Infinity'                     => $flush( '{"max_events":Infinity}' ),
			'flush: trailing comma'               => $flush( '{"max_events":100,}' ),
			'flush: single quotes'                => $flush( "{'max_events':100}" ),
			'flush: comment'                      => $flush( self::FLUSH . ' // EVIL' ),
			'flush: two documents'                => $flush( self::FLUSH . '{}' ),
			'flush: deep JSON (10 000 levels)'    => $flush( str_repeat( '[', 10000 ) . str_repeat( ']', 10000 ) ),
			'flush: 1 KiB + 1'                    => $flush( '{"max_events":100,"pad":"' . str_repeat( 'x', 1025 - 27 ) . '"}' ),
			'flush: 1 MiB of spaces'              => $flush( str_repeat( ' ', 1048576 ) ),
			'flush: SQL'                          => $flush( '{"max_events":"1; DELETE FROM wp_woodoo_events"}' ),
		);
	}

	/** @dataProvider hostile_flushes */
	public function test_hostile_flushes_are_refused_and_send_nothing( $body, $header ) {
		woodoo_fixture_order();
		Woodoo_Queue::store( Woodoo_Payload::event( Woodoo_Payload::uuid(), 'order.created', Woodoo_Payload::order( $GLOBALS['wc_orders'][41] ), null, home_url() ), self::T - 600 );
		$name = $this->dataName();
		++self::$sent;
		$before                = $this->trace();
		list( $status, $data ) = Woodoo_Flush_Route::handle( $body, $header, self::T );
		if ( $status >= 200 && $status < 300 ) {
			++self::$accepted;
		}
		$this->assertGreaterThanOrEqual( 400, $status, $name );
		$this->assertLessThan( 500, $status, $name );
		$this->assertIsString( $data['error'], $name );
		$this->assertNotSame( '', $data['message'], $name );
		$answer = json_encode( $data );
		$this->assertNotFalse( $answer, $name . ': the answer is JSON' );
		$this->assertLessThan( 400, strlen( $answer ), $name . ': the answer is bounded' );
		$this->assertStringNotContainsString( 'EVIL', $answer, $name . ': the input is not echoed' );
		$this->assertSame( $before, $this->trace(), $name . ': nothing sent, nothing changed' );
		$this->assertSame( array(), $GLOBALS['wp_http_requests'], $name );
	}

	public function test_replayed_and_concurrent_flushes_are_409_and_send_nothing() {
		woodoo_fixture_order();
		Woodoo_Queue::store( Woodoo_Payload::event( Woodoo_Payload::uuid(), 'order.created', Woodoo_Payload::order( $GLOBALS['wc_orders'][41] ), null, home_url() ), self::T - 600 );
		$header = self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::PLUGIN_FLUSH );
		$this->assertSame( 200, Woodoo_Flush_Route::handle( self::FLUSH, $header, self::T )[0], 'the original request' );
		woodoo_fixture_order( array( 'id' => 42 ) );
		Woodoo_Queue::store( Woodoo_Payload::event( Woodoo_Payload::uuid(), 'order.created', Woodoo_Payload::order( $GLOBALS['wc_orders'][42] ), null, home_url() ), self::T );
		$digest   = substr( $header, strpos( $header, 'v2=' ) + 3 );
		$attempts = array(
			'flush replay: same request'             => array( $header, self::T ),
			'flush replay: 300 s later'              => array( $header, self::T + 300 ),
			'flush replay: v2 first'                 => array( 'v2=' . $digest . ',t=' . self::T, self::T + 1 ),
			'flush replay: upper-case digest'        => array( 't=' . self::T . ',v2=' . strtoupper( $digest ), self::T + 2 ),
			'flush replay: padded with another v2'   => array( $header . ',v2=' . str_repeat( 'a', 64 ), self::T + 3 ),
		);
		$requests = count( $GLOBALS['wp_http_requests'] );
		foreach ( $attempts as $name => $attempt ) {
			++self::$sent;
			$before                = $this->trace();
			list( $status, $data ) = Woodoo_Flush_Route::handle( self::FLUSH, $attempt[0], $attempt[1] );
			$this->assertSame( array( 409, 'replayed' ), array( $status, $data['error'] ), $name );
			$this->assertSame( $before, $this->trace(), $name . ': nothing sent, nothing changed' );
		}
		// A new, valid request while another flush holds the lock.
		++self::$sent;
		Woodoo_Replay::lock( Woodoo_Flush_Route::LOCK, self::T + 10, Woodoo_Flush_Route::LOCK_TTL );
		$before                = $this->trace();
		list( $status, $data ) = Woodoo_Flush_Route::handle( self::FLUSH, self::sign( self::FLUSH, self::SECRET, Woodoo_Signer::PLUGIN_FLUSH, self::T + 11 ), self::T + 11 );
		$this->assertSame( array( 409, 'busy' ), array( $status, $data['error'] ) );
		$this->assertSame( $before, $this->trace(), 'busy: nothing sent, nothing changed' );
		$this->assertCount( $requests, $GLOBALS['wp_http_requests'] );
	}

	public function test_at_least_100_hostile_inputs() {
		// Counted from the providers, so it holds whatever runs first; the run's own count is printed.
		$planned = count( self::hostile_headers() ) + count( self::hostile_values() ) + count( self::hostile_bodies() ) + count( self::hostile_flushes() );
		$this->assertGreaterThanOrEqual( 150, $planned );
		$this->assertSame( 0, self::$accepted );
	}
}
