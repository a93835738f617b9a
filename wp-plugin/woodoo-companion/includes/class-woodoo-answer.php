<?php
/**
 * The answers the plugin's signed routes (stock, flush) give: one shape for every refusal.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Route answers.
 */
final class Woodoo_Answer {

	/**
	 * Registers a signed POST route of the plugin. Authorisation is the signature, checked over
	 * the raw body by the route's handler, so WordPress's own permission check lets all through.
	 *
	 * @param string   $route    Route under woodoo/v1, e.g. '/stock'.
	 * @param callable $callback REST callback.
	 */
	public static function register( $route, $callback ) {
		register_rest_route(
			Woodoo_Stock_Route::NAMESPACE_V1,
			$route,
			array(
				'methods'             => 'POST',
				'callback'            => $callback,
				'permission_callback' => '__return_true',
			)
		);
	}

	/**
	 * A route's REST answer: its handler run on the raw body and the signature, never cached.
	 *
	 * @param WP_REST_Request $request Request.
	 * @param callable        $handler function( string $body, ?string $signature ): array( status, data ).
	 * @return WP_REST_Response
	 */
	public static function respond( $request, $handler ) {
		list( $status, $data ) = call_user_func( $handler, (string) $request->get_body(), $request->get_header( 'x-woodoo-signature' ) );
		$response              = new WP_REST_Response( $data, $status );
		$response->header( 'Cache-Control', 'no-store' );
		return $response;
	}

	/**
	 * A validation failure: the field path and the words, never the input itself.
	 *
	 * @param string $field   Field path.
	 * @param string $message Message.
	 * @return array
	 */
	public static function invalid( $field, $message ) {
		return array(
			'error' => $message,
			'field' => $field,
		);
	}

	/**
	 * Whole-request error: array( status, data ).
	 *
	 * @param int         $status  HTTP status.
	 * @param string      $error   Code.
	 * @param string      $message Message.
	 * @param string|null $field   Field.
	 * @return array
	 */
	public static function error( $status, $error, $message, $field = null ) {
		$data = array(
			'error'   => $error,
			'message' => $message,
		);
		if ( null !== $field ) {
			$data['field'] = $field;
		}
		return array( $status, $data );
	}
}
