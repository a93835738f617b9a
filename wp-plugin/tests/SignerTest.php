<?php
use PHPUnit\Framework\TestCase;

final class SignerTest extends TestCase {

	const K1 = 'whsec_test_0123456789abcdef0123456789abcdef';
	const K2 = 'whsec_next_0123456789abcdef0123456789abcdef';
	const K3 = 'whsec_other_123456789abcdef0123456789abcdef';

	public static function vectors() {
		$path = WOODOO_REPO_ROOT . '/tests/vectors/signatures.json';
		$data = json_decode( file_get_contents( $path ), true );
		$out  = array();
		foreach ( $data['cases'] as $case ) {
			$out[ $case['name'] ] = array( $case );
		}
		return $out;
	}

	/**
	 * Every case, valid and invalid, with the clock at the case's timestamp and the case's route.
	 *
	 * @dataProvider vectors
	 */
	public function test_shared_vectors_verify_as_documented( array $case ) {
		$problem = Woodoo_Signer::check( $case['body'], $case['header'], array( $case['secret'] ), $case['route'], $case['timestamp'] );
		$this->assertSame( $case['valid'], null === $problem, $case['name'] . ': ' . var_export( $problem, true ) );
		if ( $case['valid'] ) {
			$signed = Woodoo_Signer::sign( $case['body'], $case['secret'], $case['route'], $case['timestamp'] );
			$this->assertStringStartsWith( 't=' . $case['timestamp'] . ',v2=', $signed );
			$this->assertStringContainsString( substr( $signed, strpos( $signed, 'v2=' ) ), strtolower( $case['header'] ), 'sign() makes one of the case\'s digests' );
		}
	}

	public function test_vectors_file_has_valid_and_invalid_cases_on_every_plugin_route() {
		$cases = array_column( array_values( self::vectors() ), 0 );
		$this->assertContains( true, array_column( $cases, 'valid' ) );
		$this->assertContains( false, array_column( $cases, 'valid' ) );
		$valid_routes = array_column(
			array_filter(
				$cases,
				function ( $case ) {
					return $case['valid'];
				}
			),
			'route'
		);
		foreach ( array( Woodoo_Signer::SHOP_EVENTS, Woodoo_Signer::PLUGIN_STOCK, Woodoo_Signer::PLUGIN_FLUSH, Woodoo_Signer::SHOP_STATUS ) as $route ) {
			$this->assertContains( $route, $valid_routes, 'a valid case signed for ' . $route );
		}
		$data = json_decode( file_get_contents( WOODOO_REPO_ROOT . '/tests/vectors/signatures.json' ), true );
		$this->assertSame( Woodoo_Signer::SHOP_EVENTS, $data['routes']['shop_events'] );
		$this->assertSame( Woodoo_Signer::PLUGIN_STOCK, $data['routes']['plugin_stock'] );
		$this->assertSame( Woodoo_Signer::PLUGIN_FLUSH, $data['routes']['plugin_flush'] );
		$this->assertSame( Woodoo_Signer::SHOP_STATUS, $data['routes']['shop_status'] );
	}

	public function test_the_flush_vector_is_refused_on_the_other_plugin_routes() {
		$flush = self::vectors()['flush'][0];
		$this->assertTrue( Woodoo_Signer::verify( $flush['body'], $flush['header'], array( $flush['secret'] ), Woodoo_Signer::PLUGIN_FLUSH, $flush['timestamp'] ) );
		foreach ( array( Woodoo_Signer::PLUGIN_STOCK, Woodoo_Signer::SHOP_EVENTS, 'POST /wp-json/woodoo/v1/flush' ) as $route ) {
			$this->assertFalse( Woodoo_Signer::verify( $flush['body'], $flush['header'], array( $flush['secret'] ), $route, $flush['timestamp'] ), $route );
		}
	}

	public function test_stale_and_future_timestamps_are_refused() {
		$header = Woodoo_Signer::sign( '{}', self::K1, Woodoo_Signer::PLUGIN_STOCK, 1000 );
		$this->assertTrue( Woodoo_Signer::verify( '{}', $header, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 1300 ) );
		$this->assertTrue( Woodoo_Signer::verify( '{}', $header, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 700 ) );
		$this->assertFalse( Woodoo_Signer::verify( '{}', $header, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 1301 ) );
		$this->assertFalse( Woodoo_Signer::verify( '{}', $header, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 699 ) );
		$seen = Woodoo_Signer::inspect( '{}', $header, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 2000 );
		$this->assertSame( 'stale_timestamp', $seen['code'] );
		$this->assertStringContainsString( 'clock', $seen['message'] );
	}

	public function test_a_signature_is_bound_to_its_route() {
		$header = Woodoo_Signer::sign( '{}', self::K1, Woodoo_Signer::SHOP_EVENTS, 50 );
		$this->assertTrue( Woodoo_Signer::verify( '{}', $header, array( self::K1 ), Woodoo_Signer::SHOP_EVENTS, 50 ) );
		foreach ( array( Woodoo_Signer::PLUGIN_STOCK, 'POST /webhooks/odoo', 'POST /wp-json/woodoo/v1/stock', 'GET /webhooks/woocommerce', '' ) as $route ) {
			$this->assertFalse( Woodoo_Signer::verify( '{}', $header, array( self::K1 ), $route, 50 ), $route );
		}
	}

	public function test_rotation_any_v2_matching_any_secret() {
		$header = Woodoo_Signer::sign( 'body', array( self::K1, self::K2 ), Woodoo_Signer::SHOP_EVENTS, 50 );
		$this->assertSame( 2, substr_count( $header, 'v2=' ) );
		$this->assertTrue( Woodoo_Signer::verify( 'body', $header, array( self::K2 ), Woodoo_Signer::SHOP_EVENTS, 50 ) );
		$this->assertTrue( Woodoo_Signer::verify( 'body', $header, array( self::K3, self::K1 ), Woodoo_Signer::SHOP_EVENTS, 50 ) );
		$this->assertFalse( Woodoo_Signer::verify( 'body', $header, array( self::K3 ), Woodoo_Signer::SHOP_EVENTS, 50 ) );
	}

	public function test_the_header_grammar_is_strict() {
		$digest = Woodoo_Signer::digest( 'x', self::K1, Woodoo_Signer::PLUGIN_STOCK, 5 );
		$good   = 't=5,v2=' . $digest;
		$this->assertTrue( Woodoo_Signer::verify( 'x', $good, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ) );
		$this->assertTrue( Woodoo_Signer::verify( 'x', ' t=5 , v2=' . strtoupper( $digest ), array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ), 'spaces around parts, upper-case hex' );
		$this->assertTrue( Woodoo_Signer::verify( 'x', 'v2=' . $digest . ',t=5', array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ), 'any order' );
		$bad = array(
			'not a string'        => array( 't=5' ),
			'no v2'               => 't=5',
			'no t'                => 'v2=' . $digest,
			'empty t'             => 't=,v2=' . $digest,
			'letters in t'        => 't=abc,v2=' . $digest,
			'signed t'            => 't=+5,v2=' . $digest,
			'exponent t'          => 't=5e0,v2=' . $digest,
			'11 digits'           => 't=00000000005,v2=' . $digest,
			'two t'               => 't=5,t=5,v2=' . $digest,
			'63 hex'              => 't=5,v2=' . substr( $digest, 1 ),
			'65 hex'              => 't=5,v2=' . $digest . '0',
			'non-hex'             => 't=5,v2=' . substr( $digest, 1 ) . 'g',
			'empty v2'            => 't=5,v2=,v2=' . $digest,
			'v1'                  => 't=5,v1=' . $digest,
			'v1 beside a good v2' => $good . ',v1=' . $digest,
			'v3'                  => $good . ',v3=' . $digest,
			'bare key'            => $good . ',v2',
			'trailing comma'      => $good . ',',
			'five v2'             => 't=5' . str_repeat( ',v2=' . $digest, 5 ),
			'tab'                 => "t=5,\tv2=" . $digest,
			'newline'             => $good . "\n",
			'NUL'                 => $good . "\0",
			'non-ASCII digit'     => 't=٥,v2=' . $digest,
			'too long'            => $good . str_repeat( ' ', 400 - strlen( $good ) + 1 ),
			'garbage'             => 'garbage',
		);
		foreach ( $bad as $name => $header ) {
			$seen = Woodoo_Signer::inspect( 'x', $header, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 );
			$this->assertSame( 'bad_signature', isset( $seen['code'] ) ? $seen['code'] : 'accepted', $name );
		}
		$this->assertStringContainsString( 'v1 signatures are no longer accepted', Woodoo_Signer::check( 'x', $bad['v1'], array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ) );
		$this->assertStringContainsString( 'printable ASCII', Woodoo_Signer::check( 'x', $bad['non-ASCII digit'], array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ) );
		$this->assertStringContainsString( '400 characters', Woodoo_Signer::check( 'x', $bad['too long'], array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ) );
		$this->assertStringContainsString( 'at most 4', Woodoo_Signer::check( 'x', $bad['five v2'], array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 ) );
		foreach ( array( null, '' ) as $missing ) {
			$this->assertSame( 'missing_signature', Woodoo_Signer::inspect( 'x', $missing, array( self::K1 ), Woodoo_Signer::PLUGIN_STOCK, 5 )['code'] );
		}
	}

	public function test_never_with_an_empty_or_short_secret() {
		$short  = str_repeat( 'k', 31 );
		$header = 't=5,v2=' . hash_hmac( 'sha256', '5.' . Woodoo_Signer::PLUGIN_STOCK . '.x', $short );
		foreach ( array( array(), array( '' ), array( $short ), array( self::K1, '' ), array( null ) ) as $secrets ) {
			$seen = Woodoo_Signer::inspect( 'x', $header, $secrets, Woodoo_Signer::PLUGIN_STOCK, 5 );
			$this->assertSame( 'not_configured', $seen['code'], var_export( $secrets, true ) );
		}
		$empty_key = 't=5,v2=' . hash_hmac( 'sha256', '5.' . Woodoo_Signer::PLUGIN_STOCK . '.x', '' );
		$this->assertFalse( Woodoo_Signer::verify( 'x', $empty_key, array( '' ), Woodoo_Signer::PLUGIN_STOCK, 5 ), 'an empty secret never verifies' );
		foreach ( array( '', $short, array(), array( self::K1, $short ) ) as $secrets ) {
			try {
				Woodoo_Signer::sign( 'x', $secrets, Woodoo_Signer::SHOP_EVENTS, 5 );
				$this->fail( 'signed with ' . var_export( $secrets, true ) );
			} catch ( InvalidArgumentException $error ) {
				$this->assertStringContainsString( 'secret', $error->getMessage() );
			}
		}
		$this->assertTrue( Woodoo_Signer::usable_secret( str_repeat( 'é', 32 ) ), '32 characters, 64 bytes' );
		$this->assertFalse( Woodoo_Signer::usable_secret( str_repeat( 'é', 31 ) ), 'counted in characters, not bytes' );
	}

	private function cli( array $args, $stdin ) {
		$cmd  = escapeshellarg( PHP_BINARY ) . ' ' . escapeshellarg( dirname( __DIR__ ) . '/bin/sign.php' ) . ' ' . implode( ' ', array_map( 'escapeshellarg', $args ) );
		$proc = proc_open( $cmd, array( array( 'pipe', 'r' ), array( 'pipe', 'w' ), array( 'pipe', 'w' ) ), $pipes );
		fwrite( $pipes[0], $stdin );
		fclose( $pipes[0] );
		$out = trim( stream_get_contents( $pipes[1] ) . stream_get_contents( $pipes[2] ) );
		return array( proc_close( $proc ), $out );
	}

	public function test_cli_signer_and_verifier() {
		$secret = 's3cr3t-ÄÖ-0123456789abcdefghijklmnop';
		$body   = '{"event_id": "é-1", "skus": ["TSHIRT-Ü-€"]}';
		$header = 't=1700000000,v2=18daad2b5ba241c53d7148f77f3cd54c1d922207f78af1380dbe74264ef9f5e7';
		$this->assertSame( array( 0, $header ), $this->cli( array( $secret, Woodoo_Signer::SHOP_EVENTS, '1700000000' ), $body ) );
		$this->assertSame( array( 0, 'ok' ), $this->cli( array( '--verify', $secret, Woodoo_Signer::SHOP_EVENTS, '1700000000', $header ), $body ) );
		list( $code, $out ) = $this->cli( array( '--verify', $secret, Woodoo_Signer::PLUGIN_STOCK, '1700000000', $header ), $body );
		$this->assertSame( 1, $code );
		$this->assertStringContainsString( 'does not match', $out );
		list( $code, $out ) = $this->cli( array( 'short', Woodoo_Signer::SHOP_EVENTS ), $body );
		$this->assertSame( 2, $code );
		$this->assertStringContainsString( 'at least 32', $out );
		$this->assertSame( 2, $this->cli( array( $secret ), $body )[0], 'the route is required' );
		$this->assertSame( 2, $this->cli( array( $secret, Woodoo_Signer::SHOP_EVENTS, '17000000000' ), $body )[0], '11-digit timestamp' );
	}
}
