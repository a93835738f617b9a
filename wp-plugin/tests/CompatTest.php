<?php
use PHPUnit\Framework\TestCase;

/**
 * Woodoo_Compat is the mirror of the daemon's woodoo/compat.py: both are held to the same shared
 * vectors (tests/vectors/compat.json in the Woodoo repository), so the plugin and the daemon give
 * the same verdict on every pairing.
 */
final class CompatTest extends TestCase {

	private static function vectors() {
		return json_decode( (string) file_get_contents( WOODOO_REPO_ROOT . '/tests/vectors/compat.json' ), true );
	}

	public static function pairings() {
		$cases = array();
		foreach ( self::vectors()['pairings'] as $case ) {
			$cases[ $case['part'] . ' ' . var_export( $case['version'], true ) . ' vs ' . $case['release'] ] = array( $case );
		}
		return $cases;
	}

	public static function agents() {
		$cases = array();
		foreach ( self::vectors()['agents'] as $i => $case ) {
			$cases[ $i . ' ' . substr( var_export( $case['agent'], true ), 0, 40 ) ] = array( $case );
		}
		return $cases;
	}

	/**
	 * @dataProvider pairings
	 */
	public function test_pairings_follow_the_shared_vectors( $case ) {
		$pairing = Woodoo_Compat::pairing( $case['part'], $case['version'], $case['release'] );
		$this->assertSame( $case['level'], $pairing['level'] );
		$this->assertStringContainsString( $case['says'], $pairing['words'] );
		$this->assertStringNotContainsString( "\n", $pairing['words'] );
	}

	/**
	 * @dataProvider agents
	 */
	public function test_user_agents_follow_the_shared_vectors( $case ) {
		$this->assertSame( $case['version'], Woodoo_Compat::agent_version( $case['part'], $case['agent'] ) );
	}

	public function test_this_plugin_works_with_a_daemon_of_its_own_version_and_sends_its_version() {
		$this->assertSame( 'works', Woodoo_Compat::pairing( 'daemon', WOODOO_COMPANION_VERSION )['level'] );
		$this->assertSame( WOODOO_COMPANION_VERSION, Woodoo_Compat::agent_version( 'plugin', Woodoo_Status::request_args( '{}', str_repeat( 's', 40 ), 1 )['user-agent'] ) );
	}
}
